import type { Condition, StoredPoint } from '@agentmon/contracts';
import { aggregate, numericValue, windowOf, type Sample } from './aggregation.js';
import { evaluateCondition, type EvaluationResult, type Leaf } from './condition.js';

type ThresholdLeaf = Extract<Leaf, { kind: 'threshold' }>;
type AbsenceLeaf = Extract<Leaf, { kind: 'absence' }>;

/** The parts of a rule that evaluation reads. */
export interface EvaluableRule {
  condition: Condition;
  thresholdLeaves: ThresholdLeaf[];
  absenceLeaves: AbsenceLeaf[];
  /** epoch ms of the rule's last change: absence is never counted from before the rule existed */
  updatedAt: number;
}

/** The samples a batch brings to a threshold leaf (numeric and boolean values of its field). */
export function samplesFor(leaf: ThresholdLeaf, points: readonly StoredPoint[]): Sample[] {
  const out: Sample[] = [];
  for (const p of points) {
    if (p.measurement !== leaf.condition.measurement) continue;
    const v = numericValue(p.fields[leaf.condition.field]);
    if (v !== null) out.push({ t: p.time, v });
  }
  return out;
}

/** Whether a point feeds any condition of the rule. */
export function pointTouches(rule: EvaluableRule, p: StoredPoint): boolean {
  return (
    rule.thresholdLeaves.some((l) => l.condition.measurement === p.measurement && numericValue(p.fields[l.condition.field]) !== null) ||
    rule.absenceLeaves.some((l) => !l.condition.measurement || l.condition.measurement === p.measurement)
  );
}

/** Latest point time per measurement, and '*' for any measurement. */
export function seenTimes(points: readonly StoredPoint[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of points) {
    out.set(p.measurement, Math.max(out.get(p.measurement) ?? -Infinity, p.time));
    out.set('*', Math.max(out.get('*') ?? -Infinity, p.time));
  }
  return out;
}

/**
 * Whether an absence leaf holds at time `at`: the watched data (a measurement, or any) has not
 * arrived for the leaf's `for`, counted from the rule's last change at the earliest. A
 * measurement-less absence also holds while the registry reports the agent offline.
 */
export function isAbsentAt(leaf: AbsenceLeaf, at: number, lastSeen: number | undefined, ruleUpdatedAt: number, offline = false): boolean {
  if (offline && !leaf.condition.measurement) return true;
  const since = Math.max(lastSeen ?? -Infinity, ruleUpdatedAt);
  return at - since >= leaf.forMs;
}

export interface TimedResult {
  t: number;
  result: EvaluationResult;
}

/**
 * Evaluates a rule for one agent at the time of every point of a batch that feeds it, so that a
 * spike inside a batch is seen as it would have been point by point. `windows` holds, per threshold
 * leaf path, the leaf's samples (stored and new) from the earliest window the batch needs;
 * `seenBefore` the last-seen times before this batch. A run of results that agree is reduced to its
 * first (when the condition started or stopped holding) and its last (the latest value, and the time
 * by which a pending alert may have held long enough to fire).
 */
export function replayBatch(rule: EvaluableRule, points: readonly StoredPoint[], windows: Map<string, Sample[]>, seenBefore: Map<string, number>): TimedResult[] {
  const sorted = [...points].filter((p) => pointTouches(rule, p)).sort((a, b) => a.time - b.time);
  const times = [...new Set(sorted.map((p) => p.time))];
  const runs: { first: TimedResult; last?: TimedResult }[] = [];
  const seen = new Map(seenBefore);
  let next = 0;
  for (const t of times) {
    // points up to t have arrived by t
    while (next < sorted.length && sorted[next]!.time <= t) {
      const p = sorted[next++]!;
      seen.set(p.measurement, Math.max(seen.get(p.measurement) ?? -Infinity, p.time));
      seen.set('*', Math.max(seen.get('*') ?? -Infinity, p.time));
    }
    const result = evaluateCondition(rule.condition, {
      thresholdValue: (leaf) => aggregate(leaf.condition.aggregation, windowOf(windows.get(leaf.path) ?? [], t, leaf.windowMs)),
      isAbsent: (leaf) => isAbsentAt(leaf, t, seen.get(leaf.condition.measurement ?? '*'), rule.updatedAt),
    });
    const last = runs[runs.length - 1];
    if (last && last.first.result.matches === result.matches) last.last = { t, result };
    else runs.push({ first: { t, result } });
  }
  return runs.flatMap((r) => (r.last ? [r.first, r.last] : [r.first]));
}
