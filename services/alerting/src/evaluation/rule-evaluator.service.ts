import { Injectable } from '@nestjs/common';
import type { StoredPoint } from '@agentmon/contracts';
import { AlertingMetrics } from '../metrics/alerting-metrics.js';
import type { LoadedRule } from '../rules/rule-cache.service.js';
import { AlertStateService, type OpenAlertRef } from '../alerts/alert-state.service.js';
import { decideTransition, type OpenAlertState } from '../alerts/alert-lifecycle.js';
import { aggregate, type Sample } from './aggregation.js';
import { evaluateCondition, type EvaluationResult } from './condition.js';
import { isAbsentAt, replayBatch, samplesFor, type TimedResult } from './point-replay.js';
import { EvaluationStore, type WindowUpdate } from './sample-store.js';

/** Resolves the groups stored on a newly opened alert (best effort). */
export type GroupsLookup = () => Promise<string[]>;

/**
 * Evaluates one rule for one agent — on the points of a batch, or at "now" for the tick and status
 * changes — and hands the results to the alert lifecycle.
 */
@Injectable()
export class RuleEvaluator {
  constructor(
    private readonly store: EvaluationStore,
    private readonly alerts: AlertStateService,
    private readonly metrics: AlertingMetrics,
  ) {}

  /**
   * The window sets a batch's points feed for one rule and agent (one per threshold leaf): the new
   * samples, and where reading starts (the earliest window the batch's points need).
   */
  windowUpdates(rule: LoadedRule, agentId: string, points: readonly StoredPoint[]): (WindowUpdate & { path: string })[] {
    if (points.length === 0 || rule.thresholdLeaves.length === 0) return [];
    const earliest = points.reduce((min, p) => Math.min(min, p.time), Infinity);
    return rule.thresholdLeaves.map((leaf) => ({
      path: leaf.path,
      key: this.store.keys.samples(rule.id, rule.revision, leaf.path, agentId),
      samples: samplesFor(leaf, points),
      readFrom: earliest - leaf.windowMs,
      windowMs: leaf.windowMs,
    }));
  }

  /**
   * Evaluates the rule at the time of each point of the batch, from the windows windowUpdates()
   * read (per leaf path, stored and new samples) and the last-seen times before the batch.
   */
  async onPoints(
    rule: LoadedRule,
    agentId: string,
    points: readonly StoredPoint[],
    windows: Map<string, Sample[]>,
    seenBefore: Map<string, number>,
    open: OpenAlertRef | null,
    now: number,
    groups: GroupsLookup,
  ): Promise<void> {
    if (points.length === 0) return;
    const results = replayBatch(rule, points, windows, seenBefore);
    await this.apply(rule, agentId, results, open, now, groups);
  }

  /** Evaluates the rule for the agent at `now` from the stored state (tick, status change). */
  async atNow(rule: LoadedRule, agentId: string, now: number, seen: Map<string, number>, offline: boolean): Promise<EvaluationResult> {
    const windows = new Map<string, Sample[]>();
    await Promise.all(
      rule.thresholdLeaves.map(async (leaf) => {
        windows.set(leaf.path, await this.store.readWindow(this.store.keys.samples(rule.id, rule.revision, leaf.path, agentId)));
      }),
    );
    // a threshold is judged on its latest window: a quiet agent keeps the state its last points gave
    return evaluateCondition(rule.condition, {
      thresholdValue: (leaf) => aggregate(leaf.condition.aggregation, windows.get(leaf.path) ?? []),
      isAbsent: (leaf) => isAbsentAt(leaf, now, seen.get(leaf.condition.measurement ?? '*'), rule.updatedAt, offline),
    });
  }

  /** Evaluates at `now` from stored state and applies the result (absence sweep, status changes). */
  async checkNow(rule: LoadedRule, agentId: string, open: OpenAlertRef | null, now: number, groups: GroupsLookup): Promise<void> {
    const [seen, offline] = await Promise.all([this.store.lastSeen(agentId), this.store.isOffline(agentId)]);
    const result = await this.atNow(rule, agentId, now, seen, offline);
    await this.apply(rule, agentId, [{ t: now, result }], open, now, groups);
  }

  /**
   * Applies results in time order. Pairs where nothing would change (no alert and the condition does
   * not hold, or an open alert whose value did not move) cost no database write.
   */
  async apply(rule: LoadedRule, agentId: string, results: readonly TimedResult[], open: OpenAlertRef | null, now: number, groups: GroupsLookup): Promise<void> {
    let state: OpenAlertState = open ? { status: open.status, startedAt: open.startedAt } : null;
    let lastValue = open?.value ?? null;
    for (const { t, result } of results) {
      this.metrics.evaluations.inc();
      const at = Math.min(t, now);
      const expected = decideTransition(state, result.matches, at, rule.forMs);
      if (expected.kind === 'none') continue;
      if (expected.kind === 'refresh' && sameValue(lastValue, result.value)) continue;
      const agentGroups = expected.kind === 'open' ? await groups() : [];
      const outcome = await this.alerts.apply(rule, agentId, result, at, agentGroups);
      state = outcome.open;
      lastValue = result.value;
    }
  }
}

function sameValue(a: number | null, b: number | null): boolean {
  return a === b || (a !== null && b !== null && Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a)));
}
