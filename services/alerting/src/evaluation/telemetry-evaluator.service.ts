import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { STREAMS, type StoredPoint, type TelemetryBatch } from '@agentmon/contracts';
import { EventBus } from '@agentmon/messaging';
import { LOGGER } from '../logger.token.js';
import { AlertingMetrics } from '../metrics/alerting-metrics.js';
import { RuleCache, type LoadedRule } from '../rules/rule-cache.service.js';
import { AlertStateService, pairKey } from '../alerts/alert-state.service.js';
import { AgentDirectory, type AgentFacts } from '../agents/agent-directory.service.js';
import { pointTouches, seenTimes } from './point-replay.js';
import { RuleEvaluator, type GroupsLookup } from './rule-evaluator.service.js';
import { EvaluationStore } from './sample-store.js';
import { agentInScope, scopeNeedsAgentFacts } from './scope.js';

export const EVALUATOR_DURABLE = 'alerting-evaluator';

/**
 * The evaluator: a durable JetStream consumer of telemetry batches, shared by every replica
 * (each batch goes to one of them). A batch is acknowledged once its alert changes are committed;
 * when evaluation fails (database, Redis or registry unreachable) it is redelivered with backoff,
 * and re-evaluating it changes nothing twice (samples are keyed by time, transitions are decided
 * against the stored state).
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
    await this.bus.consume({
      durable: EVALUATOR_DURABLE,
      subjects: ['evt.ingest.telemetry.batch.v1'],
      // a new evaluator starts with what arrives from now on, not the stream's whole day of history
      deliverNew: true,
      ackWaitMs: 60_000,
      maxAckPending: 256,
      handler: (batch) => this.evaluateBatch(batch),
    });
    this.logger.info({ durable: EVALUATOR_DURABLE }, 'evaluator consuming telemetry');
  }

  async evaluateBatch(batch: TelemetryBatch): Promise<void> {
    const stop = this.metrics.batchSeconds.startTimer();
    try {
      await this.evaluate(batch);
      this.metrics.batches.inc({ outcome: 'ok' });
    } catch (err) {
      this.metrics.batches.inc({ outcome: 'failed' });
      throw err;
    } finally {
      stop();
    }
  }

  private async evaluate(batch: TelemetryBatch): Promise<void> {
    const now = Date.now();
    const byAgent = new Map<string, StoredPoint[]>();
    for (const p of batch.points) {
      const list = byAgent.get(p.agent_id);
      if (list) list.push(p);
      else byAgent.set(p.agent_id, [p]);
    }
    if (byAgent.size === 0) return;
    const batchTags = new Map(batch.agents.map((a) => [a.id, a.tags ?? {}]));
    const rules = await this.rules.enabledRules();
    const open = rules.length ? await this.alerts.openAlertsOf([...byAgent.keys()]) : new Map();
    const anyAbsence = rules.some((r) => r.absenceLeaves.length > 0);

    for (const [agentId, points] of byAgent) {
      const relevant = rules.filter((r) => points.some((p) => pointTouches(r, p)));
      const seenBefore = anyAbsence ? await this.store.lastSeen(agentId) : new Map<string, number>();
      let facts: AgentFacts | undefined;
      const factsOf = async () => (facts ??= await this.agents.get(agentId, batchTags.get(agentId)));
      const groups: GroupsLookup = async () => {
        try {
          return (await factsOf()).groups;
        } catch {
          return []; // the alert still opens; only the group filter of active alerts misses it
        }
      };
      for (const rule of relevant) {
        if (!(await this.inScope(rule, agentId, factsOf))) continue;
        if (rule.absenceLeaves.length > 0) await this.store.addAbsenceAgent(rule.id, rule.revision, agentId);
        await this.evaluator.onPoints(rule, agentId, points, seenBefore, open.get(pairKey(rule.id, agentId)) ?? null, now, groups);
      }
      // data is the best evidence of life: it clears an offline mark and feeds absence conditions
      await this.store.markSeen(agentId, seenTimes(points));
    }
    await this.store.clearOffline([...byAgent.keys()]);
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
