import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { AppError, durationToMs, type AlertRule, type AuditEvent, type PageQuery, type Principal, type RuleInput } from '@agentmon/contracts';
import { decodeCursor, encodeCursor } from '@agentmon/persistence';
import { LOGGER } from '../logger.token.js';
import { AuditOutboxService } from '../audit/audit-outbox.service.js';
import { AlertStateService } from '../alerts/alert-state.service.js';
import { AlertRuleEntity } from './alert-rule.entity.js';
import { RuleCache } from './rule-cache.service.js';
import { toRuleDto } from './rule-mapper.js';
import { validateRuleSemantics } from './rule-validation.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UNIQUE_VIOLATION = '23505';

/**
 * Alert rules: create, read, replace, delete. Every change is audited (outbox, same transaction)
 * and bumps the rule cache version so that every replica evaluates the new rule set. Disabling or
 * deleting a rule resolves its open alerts.
 */
@Injectable()
export class AlertRulesService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditOutboxService,
    private readonly cache: RuleCache,
    private readonly alerts: AlertStateService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async create(principal: Principal, input: RuleInput): Promise<AlertRule> {
    validateRuleSemantics(input);
    const now = new Date();
    const entity: AlertRuleEntity = Object.assign(new AlertRuleEntity(), {
      id: randomUUID(),
      ...columnsOf(input),
      revision: 1,
      createdBy: principal.username,
      updatedBy: principal.username,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    });
    const dto = toRuleDto(entity);
    const event = await this.write(input.name, async (m) => {
      await m.getRepository(AlertRuleEntity).insert(entity);
      return this.audit.record(m, { principal, action: 'alert_rule.create', resourceType: 'alert_rule', resourceId: entity.id, after: dto });
    });
    await this.afterChange(event);
    this.logger.info({ rule_id: entity.id, actor: principal.username }, 'alert rule created');
    return dto;
  }

  async list(q: PageQuery): Promise<{ items: AlertRule[]; next_cursor: string | null }> {
    const qb = this.ds.getRepository(AlertRuleEntity).createQueryBuilder('r').where('r.deleted_at IS NULL');
    const cursor = decodeCursor<[number, string]>(q.cursor);
    if (cursor) {
      if (!Array.isArray(cursor) || typeof cursor[0] !== 'number' || typeof cursor[1] !== 'string' || !UUID.test(cursor[1])) {
        throw new AppError('bad_request', 'cursor is not valid', [{ path: 'cursor', reason: 'not a cursor this endpoint returned' }]);
      }
      qb.andWhere('(r.created_at, r.id) > (:at, :id)', { at: new Date(cursor[0]), id: cursor[1] });
    }
    const rows = await qb.orderBy('r.created_at', 'ASC').addOrderBy('r.id', 'ASC').limit(q.limit + 1).getMany();
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toRuleDto),
      next_cursor: rows.length > q.limit && last ? encodeCursor([last.createdAt.getTime(), last.id]) : null,
    };
  }

  async get(id: string): Promise<AlertRule> {
    if (!UUID.test(id)) throw AppError.notFound('alert rule', id);
    const row = await this.ds.getRepository(AlertRuleEntity).findOneBy({ id, deletedAt: IsNull() });
    if (!row) throw AppError.notFound('alert rule', id);
    return toRuleDto(row);
  }

  /** Replaces the rule (PUT semantics: fields left out take their defaults). */
  async update(principal: Principal, id: string, input: RuleInput): Promise<AlertRule> {
    validateRuleSemantics(input);
    if (!UUID.test(id)) throw AppError.notFound('alert rule', id);
    let after: AlertRule | undefined;
    const event = await this.write(input.name, async (m) => {
      const repo = m.getRepository(AlertRuleEntity);
      const row = await repo.createQueryBuilder('r').setLock('pessimistic_write').where('r.id = :id AND r.deleted_at IS NULL', { id }).getOne();
      if (!row) throw AppError.notFound('alert rule', id);
      const before = toRuleDto(row);
      Object.assign(row, columnsOf(input), { revision: row.revision + 1, updatedBy: principal.username, updatedAt: new Date() });
      await repo.save(row);
      after = toRuleDto(row);
      return this.audit.record(m, { principal, action: 'alert_rule.update', resourceType: 'alert_rule', resourceId: id, before, after });
    });
    await this.afterChange(event);
    if (!input.enabled) await this.alerts.resolveAllOfRule(id, input.name, 'rule disabled');
    this.logger.info({ rule_id: id, actor: principal.username }, 'alert rule updated');
    return after!;
  }

  async delete(principal: Principal, id: string): Promise<{ ok: true }> {
    if (!UUID.test(id)) throw AppError.notFound('alert rule', id);
    let name = '';
    const event = await this.ds.transaction(async (m) => {
      const repo = m.getRepository(AlertRuleEntity);
      const row = await repo.createQueryBuilder('r').setLock('pessimistic_write').where('r.id = :id AND r.deleted_at IS NULL', { id }).getOne();
      if (!row) throw AppError.notFound('alert rule', id);
      name = row.name;
      const now = new Date();
      await repo.update({ id }, { deletedAt: now, updatedAt: now, updatedBy: principal.username });
      return this.audit.record(m, { principal, action: 'alert_rule.delete', resourceType: 'alert_rule', resourceId: id, before: toRuleDto(row) });
    });
    await this.afterChange(event);
    await this.alerts.resolveAllOfRule(id, name, 'rule deleted');
    this.logger.info({ rule_id: id, actor: principal.username }, 'alert rule deleted');
    return { ok: true };
  }

  /** Runs a rule write in a transaction; a live rule with the same name is a conflict (409). */
  private async write(name: string, fn: (m: EntityManager) => Promise<AuditEvent>): Promise<AuditEvent> {
    try {
      return await this.ds.transaction(fn);
    } catch (err) {
      const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
      const code = e.code ?? e.driverError?.code;
      const constraint = e.constraint ?? e.driverError?.constraint;
      if (code === UNIQUE_VIOLATION && constraint === 'alert_rules_live_name') {
        throw new AppError('conflict', `an alert rule named "${name}" already exists`, [{ path: 'rule.name', reason: 'already used by another rule' }]);
      }
      throw err;
    }
  }

  private async afterChange(event: AuditEvent): Promise<void> {
    await this.cache.bumpVersion();
    await this.audit.publish([event]);
  }
}

/** The columns a rule input decides. */
function columnsOf(input: RuleInput): Pick<
  AlertRuleEntity,
  'name' | 'description' | 'severity' | 'enabled' | 'forDuration' | 'forMs' | 'scope' | 'condition' | 'labels' | 'groupBy' | 'channels' | 'escalationPolicyId'
> {
  return {
    name: input.name,
    description: input.description ?? null,
    severity: input.severity,
    enabled: input.enabled,
    forDuration: input.for,
    forMs: durationToMs(input.for),
    scope: input.scope,
    condition: input.condition,
    labels: input.labels,
    groupBy: input.group_by ?? null,
    channels: [...new Set(input.channels)],
    escalationPolicyId: input.escalation_policy_id,
  };
}
