import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, type EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { LOGGER } from '../logger.token.js';
import type { LoadedRule } from '../rules/rule-cache.service.js';
import type { EvaluationResult } from '../evaluation/condition.js';
import { AlertingMetrics } from '../metrics/alerting-metrics.js';
import { AlertInstanceEntity } from './alert-instance.entity.js';
import { AlertEventPublisher } from './alert-event.publisher.js';
import { decideTransition, isDue, startsFiring, type OpenAlertState, type Transition } from './alert-lifecycle.js';

/** The open alert of a (rule, agent) pair as the evaluator last saw it. */
export interface OpenAlertRef {
  id: string;
  ruleId: string;
  agentId: string;
  status: 'pending' | 'firing';
  startedAt: number;
  value: number | null;
}

const UNIQUE_VIOLATION = '23505';

/** What a lifecycle decision did, and the pair's open alert afterwards. */
export interface AppliedTransition {
  transition: Transition;
  alertId: string | null;
  open: OpenAlertState;
}

/**
 * Applies lifecycle decisions to PostgreSQL. Each change runs in a transaction that locks the open
 * alert of the pair (or, for a new one, relies on the partial unique index), so replicas that
 * evaluate the same pair at once cannot open two alerts or fire one twice. Events are published
 * after commit.
 */
@Injectable()
export class AlertStateService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly publisher: AlertEventPublisher,
    private readonly metrics: AlertingMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Open alerts of these agents, for the evaluator to skip pairs where nothing would change. */
  async openAlertsOf(agentIds: string[]): Promise<Map<string, OpenAlertRef>> {
    const out = new Map<string, OpenAlertRef>();
    if (agentIds.length === 0) return out;
    const rows = await this.ds.getRepository(AlertInstanceEntity).find({
      select: { id: true, ruleId: true, agentId: true, status: true, startedAt: true, value: true },
      where: { agentId: In(agentIds), status: In(['pending', 'firing']) },
    });
    for (const r of rows) out.set(pairKey(r.ruleId, r.agentId), toRef(r));
    return out;
  }

  async openAlertsOfRule(ruleId: string): Promise<OpenAlertRef[]> {
    const rows = await this.ds.getRepository(AlertInstanceEntity).find({
      select: { id: true, ruleId: true, agentId: true, status: true, startedAt: true, value: true },
      where: { ruleId, status: In(['pending', 'firing']) },
    });
    return rows.map(toRef);
  }

  /**
   * Records the result of evaluating a rule for an agent at time `at` (epoch ms) and returns what
   * happened. `agentGroups` is stored on a newly opened alert.
   */
  async apply(rule: LoadedRule, agentId: string, result: EvaluationResult, at: number, agentGroups: string[] = []): Promise<AppliedTransition> {
    for (let attempt = 0; ; attempt++) {
      try {
        const applied = await this.ds.transaction((m) => this.applyIn(m, rule, agentId, result, at, agentGroups));
        if (applied.alertId && (startsFiring(applied.transition) || applied.transition.kind === 'resolve')) {
          await this.publisher.publishPending(applied.alertId);
        }
        return applied;
      } catch (err) {
        // another replica opened the pair's alert between our read and insert: decide again
        if (isUniqueViolation(err) && attempt < 2) continue;
        throw err;
      }
    }
  }

  private async applyIn(
    m: EntityManager,
    rule: LoadedRule,
    agentId: string,
    result: EvaluationResult,
    at: number,
    agentGroups: string[],
  ): Promise<AppliedTransition> {
    const repo = m.getRepository(AlertInstanceEntity);
    const open = await repo
      .createQueryBuilder('a')
      .setLock('pessimistic_write')
      .where('a.rule_id = :ruleId AND a.agent_id = :agentId', { ruleId: rule.id, agentId })
      .andWhere(`a.status IN ('pending', 'firing')`)
      .getOne();
    const transition = decideTransition(
      open ? { status: open.status as 'pending' | 'firing', startedAt: open.startedAt.getTime() } : null,
      result.matches,
      at,
      rule.forMs,
    );
    const now = new Date();
    switch (transition.kind) {
      case 'none':
        return { transition, alertId: null, open: null };
      case 'open': {
        const id = randomUUID();
        const startedAt = new Date(at);
        const summary = openSummary(rule, agentId, result);
        const firing = transition.status === 'firing';
        await repo.insert({
          id,
          ruleId: rule.id,
          ruleName: rule.name,
          agentId,
          status: transition.status,
          severity: rule.severity,
          value: result.value,
          threshold: result.threshold,
          summary,
          labels: rule.labels,
          agentGroups,
          startedAt,
          firedAt: firing ? startedAt : null,
          firedValue: firing ? result.value : null,
          firedSummary: firing ? summary : null,
          resolvedAt: null,
          lastEvaluatedAt: now,
          acknowledgedBy: null,
          acknowledgedAt: null,
          firedPublishedAt: null,
          resolvedPublishedAt: null,
          updatedAt: now,
        });
        this.metrics.transitions.inc({ kind: firing ? 'open_firing' : 'open_pending' });
        this.logger.info({ alert_id: id, rule_id: rule.id, agent_id: agentId, status: transition.status }, 'alert opened');
        return { transition, alertId: id, open: { status: transition.status, startedAt: at } };
      }
      case 'promote': {
        const o = open!;
        const firedAt = new Date(Math.max(at, o.startedAt.getTime()));
        const summary = openSummary(rule, agentId, result);
        await repo.update(
          { id: o.id },
          { status: 'firing', firedAt, firedValue: result.value, firedSummary: summary, value: result.value, threshold: result.threshold, summary, lastEvaluatedAt: now, updatedAt: now },
        );
        this.metrics.transitions.inc({ kind: 'promote' });
        this.logger.info({ alert_id: o.id, rule_id: rule.id, agent_id: agentId }, 'alert firing');
        return { transition, alertId: o.id, open: { status: 'firing', startedAt: o.startedAt.getTime() } };
      }
      case 'refresh': {
        const o = open!;
        await repo.update({ id: o.id }, { value: result.value, threshold: result.threshold, summary: openSummary(rule, agentId, result), lastEvaluatedAt: now, updatedAt: now });
        return { transition, alertId: o.id, open: { status: o.status as 'pending' | 'firing', startedAt: o.startedAt.getTime() } };
      }
      case 'resolve':
      case 'close': {
        const o = open!;
        await this.resolveRow(m, o, resolvedSummary(rule.name, agentId, result.detail), at, result.value, now);
        this.metrics.transitions.inc({ kind: transition.kind });
        this.logger.info({ alert_id: o.id, rule_id: rule.id, agent_id: agentId, fired: transition.kind === 'resolve' }, 'alert resolved');
        return { transition, alertId: o.id, open: null };
      }
    }
  }

  /**
   * Promotes a pending alert whose rule's `for` has elapsed by `now` without a new point (the tick).
   * The condition is taken to still hold: the last evaluation found it true and no later point said
   * otherwise.
   */
  async promoteIfDue(alertId: string, forMs: number, now: number): Promise<boolean> {
    const promoted = await this.ds.transaction(async (m) => {
      const repo = m.getRepository(AlertInstanceEntity);
      const a = await repo
        .createQueryBuilder('a')
        .setLock('pessimistic_write')
        .where(`a.id = :id AND a.status = 'pending'`, { id: alertId })
        .getOne();
      if (!a || !isDue(a.startedAt.getTime(), now, forMs)) return false;
      const at = new Date(now);
      await repo.update({ id: a.id }, { status: 'firing', firedAt: at, firedValue: a.value, firedSummary: a.summary, lastEvaluatedAt: at, updatedAt: at });
      return true;
    });
    if (promoted) {
      this.metrics.transitions.inc({ kind: 'promote' });
      this.logger.info({ alert_id: alertId }, 'alert firing');
      await this.publisher.publishPending(alertId);
    }
    return promoted;
  }

  /** Resolves every open alert of a rule that was deleted or disabled. */
  async resolveAllOfRule(ruleId: string, ruleName: string, reason: string): Promise<number> {
    const ids = await this.ds.transaction(async (m) => {
      const rows = await m
        .getRepository(AlertInstanceEntity)
        .createQueryBuilder('a')
        .setLock('pessimistic_write')
        .where(`a.rule_id = :ruleId AND a.status IN ('pending', 'firing')`, { ruleId })
        .getMany();
      const now = new Date();
      for (const row of rows) await this.resolveRow(m, row, resolvedSummary(ruleName, row.agentId, reason), now.getTime(), row.value, now);
      return rows.map((r) => r.id);
    });
    for (const id of ids) await this.publisher.publishPending(id);
    return ids.length;
  }

  private async resolveRow(m: EntityManager, row: AlertInstanceEntity, summary: string, at: number, value: number | null, now: Date): Promise<void> {
    const floor = Math.max(row.startedAt.getTime(), row.firedAt?.getTime() ?? 0);
    await m.getRepository(AlertInstanceEntity).update(
      { id: row.id },
      { status: 'resolved', resolvedAt: new Date(Math.max(at, floor)), value, summary, lastEvaluatedAt: now, updatedAt: now },
    );
  }
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } };
  return e?.code === UNIQUE_VIOLATION || e?.driverError?.code === UNIQUE_VIOLATION;
}

export function pairKey(ruleId: string, agentId: string): string {
  return `${ruleId}\u0000${agentId}`;
}

function toRef(r: AlertInstanceEntity): OpenAlertRef {
  return { id: r.id, ruleId: r.ruleId, agentId: r.agentId, status: r.status as 'pending' | 'firing', startedAt: r.startedAt.getTime(), value: r.value };
}

/** "CPU hot on agent-7: avg(agent_metrics.cpu_usage) over 1m = 95.2 > 90" */
export function openSummary(rule: Pick<LoadedRule, 'name'>, agentId: string, result: EvaluationResult): string {
  return `${rule.name} on ${agentId}: ${result.detail}`;
}
export function resolvedSummary(ruleName: string, agentId: string, detail: string): string {
  return `${ruleName} on ${agentId} resolved: ${detail}`;
}
