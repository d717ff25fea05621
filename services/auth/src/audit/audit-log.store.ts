import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, type Repository } from 'typeorm';
import { AppError, type AuditEvent, type AuditQuerySchema, type AuditLogSchema } from '@agentmon/contracts';
import type { z } from 'zod';
import { decodeCursor, encodeCursor } from '@agentmon/persistence';
import { AuditLogEntity } from './audit-log.entity.js';
import { isUuid } from '../principal.js';

type AuditQuery = z.output<typeof AuditQuerySchema>;
type AuditLog = z.input<typeof AuditLogSchema>;

/** The append-only audit_logs table. */
@Injectable()
export class AuditLogStore {
  constructor(@InjectRepository(AuditLogEntity) private readonly repo: Repository<AuditLogEntity>) {}

  /** Stores an event once: a redelivered or re-published event (same id) changes nothing. */
  async append(event: AuditEvent): Promise<void> {
    await this.repo
      .createQueryBuilder()
      .insert()
      .values({
        id: event.id,
        at: new Date(event.at),
        actorKind: event.actor.kind,
        actorId: event.actor.id,
        actorUsername: event.actor.username ?? null,
        action: event.action,
        resourceType: event.resource_type,
        resourceId: event.resource_id,
        outcome: event.outcome,
        ip: event.ip ?? null,
        // undefined leaves the column NULL; jsonb columns take any JSON value
        before: (event.before ?? null) as never,
        after: (event.after ?? null) as never,
        service: event.service,
        requestId: event.request_id ?? null,
        recordedAt: () => 'now()',
      })
      .orIgnore()
      .execute();
  }

  /** Newest first, keyset-paged on (at, id). */
  async list(query: AuditQuery): Promise<{ items: AuditLog[]; next_cursor: string | null }> {
    const after = decodeCursor<{ at: number; id: string }>(query.cursor);
    const qb = this.repo.createQueryBuilder('a');
    if (query.actor !== undefined) {
      qb.andWhere(new Brackets((w) => w.where('a.actor_id = :actor').orWhere('a.actor_username = :actor')), { actor: query.actor });
    }
    if (query.action !== undefined) qb.andWhere('a.action = :action', { action: query.action });
    if (query.resource_type !== undefined) qb.andWhere('a.resource_type = :resourceType', { resourceType: query.resource_type });
    if (query.from !== undefined) qb.andWhere('a.at >= :from', { from: new Date(query.from) });
    if (query.to !== undefined) qb.andWhere('a.at <= :to', { to: new Date(query.to) });
    if (after) {
      if (typeof after.at !== 'number' || typeof after.id !== 'string' || !isUuid(after.id)) throw badCursor();
      qb.andWhere('(a.at, a.id) < (:cursorAt, :cursorId)', { cursorAt: new Date(after.at), cursorId: after.id });
    }
    const rows = await qb.orderBy('a.at', 'DESC').addOrderBy('a.id', 'DESC').limit(query.limit + 1).getMany();
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toAuditLog),
      next_cursor: rows.length > query.limit && last ? encodeCursor({ at: last.at.getTime(), id: last.id }) : null,
    };
  }
}

function badCursor(): AppError {
  return new AppError('bad_request', 'cursor is not valid', [{ path: 'query.cursor', reason: 'not a cursor this endpoint returned' }]);
}

export function toAuditLog(row: AuditLogEntity): AuditLog {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor: { kind: row.actorKind, id: row.actorId, ...(row.actorUsername !== null ? { username: row.actorUsername } : {}) },
    action: row.action,
    resource_type: row.resourceType,
    resource_id: row.resourceId,
    outcome: row.outcome,
    ip: row.ip,
    ...(row.before !== null ? { before: row.before } : {}),
    ...(row.after !== null ? { after: row.after } : {}),
    service: row.service,
    ...(row.requestId !== null ? { request_id: row.requestId } : {}),
  };
}
