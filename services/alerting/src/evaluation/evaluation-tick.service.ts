import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { ALERTING_CONFIG, type AlertingConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { AlertingMetrics } from '../metrics/alerting-metrics.js';
import { RuleCache, type LoadedRule } from '../rules/rule-cache.service.js';
import { AlertStateService } from '../alerts/alert-state.service.js';
import { AlertEventPublisher } from '../alerts/alert-event.publisher.js';
import { AuditOutboxService } from '../audit/audit-outbox.service.js';
import { AgentDirectory } from '../agents/agent-directory.service.js';
import { RuleEvaluator } from './rule-evaluator.service.js';
import { EvaluationStore } from './sample-store.js';
import { agentInScope, scopeNeedsAgentFacts } from './scope.js';

/**
 * The periodic tick (EVALUATION_TICK_MS). One replica at a time runs it, under a Redis lock that
 * expires on its own if the holder dies. Each run:
 *   1. promotes pending alerts whose rule's `for` has elapsed (no new point needed);
 *   2. evaluates rules with absence conditions for the agents in their scope;
 *   3. resolves alerts left open by rules that were deleted or disabled;
 *   4. re-publishes alert and audit events whose first publish failed.
 */
@Injectable()
export class EvaluationTick implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private readonly token = randomUUID();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(ALERTING_CONFIG) private readonly config: AlertingConfig,
    private readonly rules: RuleCache,
    private readonly evaluator: RuleEvaluator,
    private readonly alerts: AlertStateService,
    private readonly publisher: AlertEventPublisher,
    private readonly audit: AuditOutboxService,
    private readonly agents: AgentDirectory,
    private readonly store: EvaluationStore,
    private readonly metrics: AlertingMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.runOnce(), this.config.EVALUATION_TICK_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One tick, unless the previous one is still running here or another replica holds the lock. */
  async runOnce(): Promise<void> {
    if (this.running) return;
    this.running = this.tick().finally(() => {
      this.running = null;
    });
    await this.running;
  }

  private async tick(): Promise<void> {
    const lockKey = this.store.keys.tickLock();
    const ttl = Math.max(3 * this.config.EVALUATION_TICK_MS, 15_000);
    try {
      if (!(await this.store.tryLock(lockKey, this.token, ttl))) {
        this.metrics.ticks.inc({ outcome: 'skipped' });
        return;
      }
    } catch (err) {
      this.metrics.ticks.inc({ outcome: 'failed' });
      this.logger.warn({ err }, 'evaluation tick could not take its lock');
      return;
    }
    try {
      const now = Date.now();
      await this.step('promote', () => this.promoteDue(now));
      await this.step('absence', () => this.sweepAbsence(now));
      await this.step('orphans', () => this.resolveOrphans());
      await this.step('alert outbox', () => this.publisher.sweep());
      await this.step('audit outbox', () => this.audit.sweep());
      this.metrics.ticks.inc({ outcome: 'ran' });
    } finally {
      await this.store.unlock(lockKey, this.token).catch(() => undefined);
    }
  }

  /** A failing step is logged and does not stop the others. */
  private async step(name: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.metrics.ticks.inc({ outcome: 'failed' });
      this.logger.error({ err, step: name }, 'evaluation tick step failed');
    }
  }

  private async promoteDue(now: number): Promise<void> {
    const due: { id: string; for_ms: string }[] = await this.ds.query(
      `SELECT a.id, r.for_ms
         FROM alert_instances a JOIN alert_rules r ON r.id = a.rule_id
        WHERE a.status = 'pending' AND r.enabled AND r.deleted_at IS NULL
          AND a.started_at + r.for_ms * interval '1 millisecond' <= $1
        ORDER BY a.started_at
        LIMIT 1000`,
      [new Date(now)],
    );
    for (const row of due) await this.alerts.promoteIfDue(row.id, Number(row.for_ms), now);
  }

  private async sweepAbsence(now: number): Promise<void> {
    const rules = (await this.rules.enabledRules()).filter((r) => r.absenceLeaves.length > 0);
    for (const rule of rules) {
      const open = new Map((await this.alerts.openAlertsOfRule(rule.id)).map((a) => [a.agentId, a]));
      const agents = new Set([...(rule.scope.agent_ids ?? []), ...(await this.store.absenceAgents(rule.id, rule.revision)), ...open.keys()]);
      for (const agentId of agents) {
        try {
          if (!(await this.inScope(rule, agentId))) continue;
          const groups = async () => (await this.agents.get(agentId).catch(() => ({ groups: [] as string[] }))).groups;
          await this.evaluator.checkNow(rule, agentId, open.get(agentId) ?? null, now, groups);
        } catch (err) {
          this.logger.warn({ err, rule_id: rule.id, agent_id: agentId }, 'absence check failed');
        }
      }
    }
  }

  private async inScope(rule: LoadedRule, agentId: string): Promise<boolean> {
    if (!agentInScope({ agent_ids: rule.scope.agent_ids }, agentId)) return false;
    if (!scopeNeedsAgentFacts(rule.scope)) return true;
    return agentInScope(rule.scope, agentId, await this.agents.get(agentId));
  }

  /** Open alerts of rules that are gone or disabled (e.g. the process stopped between the change and resolving them). */
  private async resolveOrphans(): Promise<void> {
    const rows: { id: string; name: string; deleted: boolean }[] = await this.ds.query(
      `SELECT DISTINCT r.id, r.name, r.deleted_at IS NOT NULL AS deleted
         FROM alert_instances a JOIN alert_rules r ON r.id = a.rule_id
        WHERE a.status IN ('pending', 'firing') AND (r.deleted_at IS NOT NULL OR NOT r.enabled)
        LIMIT 100`,
    );
    for (const r of rows) await this.alerts.resolveAllOfRule(r.id, r.name, r.deleted ? 'rule deleted' : 'rule disabled');
  }
}
