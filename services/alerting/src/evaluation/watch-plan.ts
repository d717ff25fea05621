import type { EvaluableRule } from './point-replay.js';

/** The key of last-seen times for data of any measurement. */
export const ANY_MEASUREMENT = '*';

/** What the enabled rules need from telemetry: worked out once per rule set, used for every batch. */
export interface WatchPlan {
  /** no enabled rule reads points: a batch is not even decoded */
  idle: boolean;
  /**
   * the measurements whose lines are decoded; undefined for all of them (a measurement-less absence
   * condition watches any data)
   */
  measurements: ReadonlySet<string> | undefined;
  /**
   * the last-seen times absence conditions read: measurements, and ANY_MEASUREMENT. Only these are
   * recorded: absence is counted from a rule's last change at the earliest, so a time recorded
   * before some rule watched it would never be read.
   */
  seenKeys: ReadonlySet<string>;
  /**
   * a measurement-less absence condition exists: it also holds while the registry reports the agent
   * offline, so data clears that mark here at once (otherwise the registry's online event does).
   */
  watchesAnyData: boolean;
}

export function watchPlan(rules: readonly EvaluableRule[]): WatchPlan {
  const measurements = new Set<string>();
  const seenKeys = new Set<string>();
  let watchesAnyData = false;
  for (const rule of rules) {
    for (const leaf of rule.thresholdLeaves) measurements.add(leaf.condition.measurement);
    for (const leaf of rule.absenceLeaves) {
      const m = leaf.condition.measurement;
      if (m) {
        measurements.add(m);
        seenKeys.add(m);
      } else {
        watchesAnyData = true;
        seenKeys.add(ANY_MEASUREMENT);
      }
    }
  }
  return {
    idle: rules.length === 0,
    measurements: watchesAnyData ? undefined : measurements,
    seenKeys,
    watchesAnyData,
  };
}
