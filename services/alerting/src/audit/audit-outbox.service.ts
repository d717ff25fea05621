import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import type { AuditEvent, Principal } from '@agentmon/contracts';
import { EventBus } from '@agentmon/messaging';
import { currentRequestId } from '@agentmon/observability';
import { LOGGER } from '../logger.token.js';
import { AuditOutboxEntity } from './audit-outbox.entity.js';

export interface AuditFact {
  principal: Principal;
  action: string;
  resourceType: string;
  resourceId: string | null;
  before?: unknown;
  after?: unknown;
}

/**
 * Audit events go through an outbox: written in the transaction of the change, published on the
 * AUDIT stream after commit (msgId = event id, so a retry is de-duplicated), retried by the tick when
 * publishing failed. A change is never recorded without its audit event or the reverse.
 */
@Injectable()
export class AuditOutboxService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly bus: EventBus,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Adds the event to the outbox inside the caller's transaction. */
  async record(manager: EntityManager, fact: AuditFact): Promise<AuditEvent> {
    const requestId = currentRequestId();
    const event: AuditEvent = {
      id: randomUUID(),
      at: Date.now(),
      actor: { kind: fact.principal.kind, id: fact.principal.id, username: fact.principal.username },
      action: fact.action,
      resource_type: fact.resourceType,
      resource_id: fact.resourceId,
      outcome: 'success',
      ip: fact.principal.ip ?? null,
      ...(fact.before !== undefined ? { before: fact.before } : {}),
      ...(fact.after !== undefined ? { after: fact.after } : {}),
      service: 'alerting',
      ...(requestId ? { request_id: requestId } : {}),
    };
    // raw SQL: TypeORM's partial-entity types cannot express the event's `unknown` before/after
    await manager.query(`INSERT INTO audit_outbox (id, payload, created_at) VALUES ($1, $2::jsonb, $3)`, [
      event.id,
      JSON.stringify(event),
      new Date(event.at),
    ]);
    return event;
  }

  /** Publishes events recorded by a committed transaction; failures are left to the sweep. */
  async publish(events: AuditEvent[]): Promise<void> {
    for (const event of events) {
      try {
        await this.bus.publish('evt.audit.recorded.v1', event, { msgId: event.id });
        await this.ds.getRepository(AuditOutboxEntity).update({ id: event.id }, { publishedAt: new Date() });
      } catch (err) {
        this.logger.warn({ err, audit_id: event.id }, 'audit event not published yet; the tick will retry');
      }
    }
  }

  /** Publishes what earlier attempts could not (older than graceMs, so in-flight publishes finish first). */
  async sweep(graceMs = 2_000, batch = 200): Promise<number> {
    const rows = await this.ds
      .getRepository(AuditOutboxEntity)
      .createQueryBuilder('o')
      .where('o.published_at IS NULL')
      .andWhere('o.created_at < :cutoff', { cutoff: new Date(Date.now() - graceMs) })
      .orderBy('o.created_at', 'ASC')
      .limit(batch)
      .getMany();
    await this.publish(rows.map((r) => r.payload));
    return rows.length;
  }
}
