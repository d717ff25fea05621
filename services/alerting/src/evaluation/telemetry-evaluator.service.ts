import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { COMPRESSED_LINES_SUBJECT, LINES_SUBJECT, STREAMS, TelemetryLinesError, type StoredPoint, type TelemetryLines } from '@agentmon/contracts';
import { EventBus, RetryLater } from '@agentmon/messaging';
import { LOGGER } from '../logger.token.js';
import { AlertingMetrics } from '../metrics/alerting-metrics.js';
import { RuleCache, type LoadedRule } from '../rules/rule-cache.service.js';
import { AlertStateService, pairKey, type OpenAlertRef } from '../alerts/alert-state.service.js';
import { AgentDirectory, type AgentFacts } from '../agents/agent-directory.service.js';
import type { Sample } from './aggregation.js';
import { pointTouches, seenTimes } from './point-replay.js';
import { RuleEvaluator, type GroupsLookup } from './rule-evaluator.service.js';
import { EvaluationStore, type BatchTraces } from './sample-store.js';
import { agentInScope, scopeNeedsAgentFacts } from './scope.js';
import type { WatchPlan } from './watch-plan.js';

/** The evaluator's durable consumer of the telemetry lines (both subjects), shared by every replica. */
export const EVALUATOR_DURABLE = 'alerting-all-lines';
/**
 * Its predecessors: of whole JSON batches (`evt.ingest.telemetry.batch.v1`), and of the uncompressed
 * lines only (`evt.ingest.telemetry.lines.v1`; replicas of that version share it, and must not be
 * handed compressed messages they cannot read, so this version reads both subjects with a consumer of its own).
 */
const RETIRED_DURABLES = ['alerting-evaluator', 'alerting-telemetry'];

/**
 * A batch with an agent the registry does not know yet, read by a rule whose scope needs the agent's
 * tags or groups, waits this long for the registry to register it (from the same telemetry) ...
 */
const FIRST_CONTACT_RETRY_MS = 1_000;
/** ... on its first deliveries; from this one on it is evaluated with what is known. */
const FIRST_CONTACT_DELIVERIES = 3;

/** One rule to evaluate for one agent on the points of a batch. */
interface Pair {
  rule: LoadedRule;
  agentId: string;
  points: StoredPoint[];
  groups: GroupsLookup;
}

/**
 * The evaluator: a durable JetStream consumer of the telemetry lines, shared by every replica
 * (each batch goes to one of them). Only the lines of measurements some enabled rule reads are
 * decoded, none while no rule is enabled. A batch is acknowledged once its alert changes are
 * committed; when evaluation fails (database, Redis or registry unreachable) it is redelivered with
 * backoff, and re-evaluating it changes nothing twice (samples are keyed by time, transitions are
 * decided against the stored state).
 *
 * Redis work per batch is a fixed number of round trips, whatever the number of agents and rules:
 * the rule-cache version (at most every VERSION_CHECK_MS), the last-seen times the absence
 * conditions involved read, every window set in one pipeline, and one pipeline for what the batch
 * leaves behind (absence scope members, last-seen times, offline marks).
 */
@Injectable()
export class TelemetryEvaluator implements OnApplicationBootstrap {
  constructor(
    private readonly bus: EventBus,
    private readonly rules: RuleCache,
    private readonly evaluator: RuleEvaluator,
    private readonly alerts: AlertStateService,
    private readonly agents: AgentDirectory,
    private readonly store: EvaluationStore,
    private readonly metrics: AlertingMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureTelemetryStream();
    await this.bus.retireConsumers('TELEMETRY', RETIRED_DURABLES);
    await this.bus.consumeBatches({
      durable: EVALUATOR_DURABLE,
      subjects: [LINES_SUBJECT, COMPRESSED_LINES_SUBJECT],
      // a new evaluator starts with what arrives from now on, not the stream's whole day of history
      deliverNew: true,
      ackWaitMs: 60_000,
      maxAckPending: 256,
      // the messages that arrived within 50 ms are evaluated in order and acknowledged together (one
      // socket write for all their acks): under load each message alone cost more in acks and wake-ups
      // than in evaluation. A failure redelivers them all; evaluating a batch twice changes nothing twice.
      maxBatch: 64,
      maxWaitMs: 50,
      handler: async (items) => {
        for (const item of items) await this.evaluateBatch(item.payload, item.deliveryCount);
      },
    });
    this.logger.info({ durable: EVALUATOR_DURABLE }, 'evaluator consuming telemetry');
  }

  /**
   * `delivery`: how often JetStream has delivered the batch (1 the first time). A batch whose agent
   * the registry does not know yet, read by a rule scoped by tags or groups, is retried a moment later
   * on its first deliveries (RetryLater): a new agent's first batch names its tags, and the registry
   * registers it from that same batch, in parallel with this evaluator; without the wait the tag scope
   * would miss the agent's first points.
   */
  async evaluateBatch(lines: TelemetryLines, delivery = 1): Promise<void> {
    const stop = this.metrics.batchSeconds.startTimer();
    try {
      await this.evaluate(lines, delivery);
      this.metrics.batches.inc({ outcome: 'ok' });
    } catch (err) {
      if (err instanceof TelemetryLinesError) {
        // lines that are not in the stream's normal form, or cannot be decompressed, never will be:
        // evaluating them again cannot help, and the other messages of their batch must not wait
        this.metrics.batches.inc({ outcome: 'failed' });
        this.logger.error({ err: err.message }, 'telemetry lines cannot be read; skipped');
        return;
      }
      this.metrics.batches.inc({ outcome: err instanceof RetryLater ? 'deferred' : 'failed' });
      throw err;
    } finally {
      stop();
    }
  }

  private async evaluate(lines: TelemetryLines, delivery: number): Promise<void> {
    const { rules, plan } = await this.rules.watching();
    if (plan.idle) return;
    const points = lines.points(plan.measurements ? { measurements: plan.measurements } : {});
    this.metrics.pointsDecoded.inc(points.length);
    if (points.length === 0) return;
    const now = Date.now();
    const byAgent = new Map<string, StoredPoint[]>();
    for (const p of points) {
      const list = byAgent.get(p.agent_id);
      if (list) list.push(p);
      else byAgent.set(p.agent_id, [p]);
    }

    const { pairs, unknown } = await this.pairsOf(rules, byAgent);
    if (unknown.length > 0 && delivery < FIRST_CONTACT_DELIVERIES) {
      for (const id of unknown) this.agents.expire(id);
      const named = unknown.slice(0, 3).join(', ') + (unknown.length > 3 ? ` and ${unknown.length - 3} more` : '');
      throw new RetryLater(`the registry does not know ${named} yet`, FIRST_CONTACT_RETRY_MS);
    }
    if (pairs.length > 0) {
      const agentIds = [...new Set(pairs.map((p) => p.agentId))];
      const absenceAgents = [...new Set(pairs.filter((p) => p.rule.absenceLeaves.length > 0).map((p) => p.agentId))];
      const updates = pairs.map((p) => this.evaluator.windowUpdates(p.rule, p.agentId, p.points));
      const [open, seenBefore, windows] = await Promise.all([
        this.alerts.openAlertsOf(agentIds),
        this.store.lastSeenMany(absenceAgents),
        this.store.addAndReadMany(updates.flat()),
      ]);
      let next = 0;
      for (let i = 0; i < pairs.length; i++) {
        const { rule, agentId, points: agentPoints, groups } = pairs[i]!;
        const byPath = new Map<string, Sample[]>();
        for (const u of updates[i]!) byPath.set(u.path, windows[next++]!);
        const openAlert: OpenAlertRef | null = open.get(pairKey(rule.id, agentId)) ?? null;
        await this.evaluator.onPoints(rule, agentId, agentPoints, byPath, seenBefore.get(agentId) ?? new Map(), openAlert, now, groups);
      }
    }
    // data is the best evidence of life: it feeds absence conditions and clears offline marks
    await this.store.recordBatch(traces(plan, pairs, byAgent));
  }

  /**
   * The rules each agent's points feed and whose scope holds the agent (tags and groups from the
   * registry, cached), and the agents whose facts a scope needed and the registry did not have.
   */
  private async pairsOf(rules: readonly LoadedRule[], byAgent: Map<string, StoredPoint[]>): Promise<{ pairs: Pair[]; unknown: string[] }> {
    const unknown: string[] = [];
    const perAgent = await Promise.all(
      [...byAgent].map(async ([agentId, points]) => {
        const relevant = rules.filter((r) => points.some((p) => pointTouches(r, p)));
        if (relevant.length === 0) return [];
        let facts: Promise<AgentFacts> | undefined;
        const factsOf = () => (facts ??= this.agents.get(agentId));
        const groups: GroupsLookup = async () => {
          try {
            return (await factsOf()).groups;
          } catch {
            return []; // the alert still opens; only the group filter of active alerts misses it
          }
        };
        const out: Pair[] = [];
        for (const rule of relevant) {
          if (await this.inScope(rule, agentId, factsOf)) out.push({ rule, agentId, points, groups });
        }
        if (facts !== undefined && !(await facts).registered) unknown.push(agentId);
        return out;
      }),
    );
    return { pairs: perAgent.flat(), unknown };
  }

  private async inScope(rule: LoadedRule, agentId: string, factsOf: () => Promise<AgentFacts>): Promise<boolean> {
    if (!agentInScope({ agent_ids: rule.scope.agent_ids }, agentId)) return false;
    if (!scopeNeedsAgentFacts(rule.scope)) return true;
    return agentInScope(rule.scope, agentId, await factsOf());
  }

  /** The ingest service owns the stream; create it (with the shared defaults) only if it is missing. */
  private async ensureTelemetryStream(): Promise<void> {
    try {
      await this.bus.jsm.streams.info(STREAMS.TELEMETRY.name);
    } catch {
      await this.bus.ensureStreams(['TELEMETRY']);
    }
  }


}

/**
 * What a batch leaves in Redis: the agents in scope of absence rules (for the sweep), the latest
 * time of each watched measurement per agent, and, when a measurement-less absence condition
 * reads them, cleared offline marks.
 */
function traces(plan: WatchPlan, pairs: readonly Pair[], byAgent: ReadonlyMap<string, readonly StoredPoint[]>): BatchTraces {
  const absence = new Map<string, { ruleId: string; revision: number; agentIds: string[] }>();
  for (const { rule, agentId } of pairs) {
    if (rule.absenceLeaves.length === 0) continue;
    const key = `${rule.id}:${rule.revision}`;
    const entry = absence.get(key) ?? absence.set(key, { ruleId: rule.id, revision: rule.revision, agentIds: [] }).get(key)!;
    entry.agentIds.push(agentId);
  }
  const seen = new Map<string, Map<string, number>>();
  if (plan.seenKeys.size > 0) {
    for (const [agentId, points] of byAgent) {
      const times = seenTimes(points);
      for (const key of times.keys()) if (!plan.seenKeys.has(key)) times.delete(key);
      if (times.size) seen.set(agentId, times);
    }
  }
  return { absenceAgents: [...absence.values()], seen, backOnline: plan.watchesAnyData ? [...byAgent.keys()] : [] };
}

