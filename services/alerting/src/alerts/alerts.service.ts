import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { AppError, type Alert, type AuditEvent, type Principal, type RpcParsedRequest } from '@agentmon/contracts';
import { decodeCursor, encodeCursor } from '@agentmon/persistence';
import { LOGGER } from '../logger.token.js';
import { AuditOutboxService } from '../audit/audit-outbox.service.js';
import { AlertInstanceEntity } from './alert-instance.entity.js';
import { toAlertDto } from './alert-mapper.js';

/** Open alerts are few; more than this in one answer means the query should be narrowed. */
export const ACTIVE_LIMIT = 5_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type ActiveQuery = RpcParsedRequest<'rpc.alerting.alert.active.v1'>;
type ListQuery = RpcParsedRequest<'rpc.alerting.alert.list.v1'>;

/** Reading alerts and acknowledging them. */
@Injectable()
export class AlertsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditOutboxService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Pending and firing alerts, critical first, then newest first. */
  async active(q: ActiveQuery): Promise<{ items: Alert[]; next_cursor: null }> {
    const qb = this.ds
      .getRepository(AlertInstanceEntity)
      .createQueryBuilder('a')
      .where(`a.status IN ('pending', 'firing')`);
    if (q.severity) qb.andWhere('a.severity = :severity', { severity: q.severity });
    if (q.agent_id) qb.andWhere('a.agent_id = :agentId', { agentId: q.agent_id });
    if (q.group_id) qb.andWhere(':groupId = ANY(a.agent_groups)', { groupId: q.group_id });
    const rows = await qb
      .addSelect(`CASE a.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END`, 'severity_rank')
      .orderBy('severity_rank', 'ASC')
      .addOrderBy('a.started_at', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .limit(ACTIVE_LIMIT)
      .getMany();
    if (rows.length === ACTIVE_LIMIT) this.logger.warn({ limit: ACTIVE_LIMIT }, 'active alerts answer truncated');
    return { items: rows.map(toAlertDto), next_cursor: null };
  }

  /** Alert history, newest started_at first, keyset-paged on (started_at, id). */
  async list(q: ListQuery): Promise<{ items: Alert[]; next_cursor: string | null }> {
    const qb = this.ds.getRepository(AlertInstanceEntity).createQueryBuilder('a');
    if (q.status) qb.andWhere('a.status = :status', { status: q.status });
    if (q.severity) qb.andWhere('a.severity = :severity', { severity: q.severity });
    if (q.agent_id) qb.andWhere('a.agent_id = :agentId', { agentId: q.agent_id });
    if (q.rule_id) {
      if (!UUID.test(q.rule_id)) return { items: [], next_cursor: null };
      qb.andWhere('a.rule_id = :ruleId', { ruleId: q.rule_id });
    }
    if (q.from !== undefined) qb.andWhere('a.started_at >= :from', { from: new Date(q.from) });
    if (q.to !== undefined) qb.andWhere('a.started_at <= :to', { to: new Date(q.to) });
    const cursor = decodeCursor<[number, string]>(q.cursor);
    if (cursor) {
      if (!Array.isArray(cursor) || typeof cursor[0] !== 'number' || typeof cursor[1] !== 'string' || !UUID.test(cursor[1])) {
        throw new AppError('bad_request', 'cursor is not valid', [{ path: 'cursor', reason: 'not a cursor this endpoint returned' }]);
      }
      qb.andWhere('(a.started_at, a.id) < (:cursorAt, :cursorId)', { cursorAt: new Date(cursor[0]), cursorId: cursor[1] });
    }
    const rows = await qb
      .orderBy('a.started_at', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .limit(q.limit + 1)
      .getMany();
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toAlertDto),
      next_cursor: rows.length > q.limit && last ? encodeCursor([last.startedAt.getTime(), last.id]) : null,
    };
  }

  async get(id: string): Promise<Alert> {
    return toAlertDto(await this.find(id));
  }

  /**
   * Records who acknowledged an open alert (escalation stops there). Acknowledging again answers the
   * alert as it is; a resolved alert cannot be acknowledged (409).
   */
  async acknowledge(principal: Principal, id: string): Promise<Alert> {
    if (!UUID.test(id)) throw AppError.notFound('alert', id);
    let event: AuditEvent | null = null;
    const alert = await this.ds.transaction(async (m) => {
      const repo = m.getRepository(AlertInstanceEntity);
      const row = await repo.createQueryBuilder('a').setLock('pessimistic_write').where('a.id = :id', { id }).getOne();
      if (!row) throw AppError.notFound('alert', id);
      if (row.acknowledgedBy) return row;
      if (row.status === 'resolved') throw new AppError('conflict', `alert ${id} is resolved and cannot be acknowledged`);
      const before = toAlertDto(row);
      const now = new Date();
      row.acknowledgedBy = principal.username;
      row.acknowledgedAt = now;
      row.updatedAt = now;
      await repo.update({ id }, { acknowledgedBy: row.acknowledgedBy, acknowledgedAt: now, updatedAt: now });
      event = await this.audit.record(m, {
        principal,
        action: 'alert.acknowledge',
        resourceType: 'alert',
        resourceId: id,
        before,
        after: toAlertDto(row),
      });
      return row;
    });
    if (event) await this.audit.publish([event]);
    return toAlertDto(alert);
  }

  private async find(id: string): Promise<AlertInstanceEntity> {
    if (!UUID.test(id)) throw AppError.notFound('alert', id);
    const row = await this.ds.getRepository(AlertInstanceEntity).findOneBy({ id });
    if (!row) throw AppError.notFound('alert', id);
    return row;
  }
}
