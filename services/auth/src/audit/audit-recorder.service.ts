import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AuditEvent } from '@agentmon/contracts';
import { EventBus } from '@agentmon/messaging';
import { currentRequestId } from '@agentmon/observability';
import { LOGGER } from '../logger.token.js';
import { AuditLogStore } from './audit-log.store.js';

export interface AuditEntry {
  actor: AuditEvent['actor'];
  action: string;
  resource_type: string;
  resource_id?: string | null;
  outcome: AuditEvent['outcome'];
  ip?: string | null;
  before?: unknown;
  after?: unknown;
}

/**
 * Records what this service did as `evt.audit.recorded.v1` on JetStream, like every other service;
 * the audit consumer then stores it. When JetStream cannot take the event, the fact is written to
 * audit_logs directly (same id, so a later delivery is not a duplicate) rather than lost.
 */
@Injectable()
export class AuditRecorder {
  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(AuditLogStore) private readonly store: AuditLogStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    const requestId = currentRequestId();
    const event: AuditEvent = {
      id: randomUUID(),
      at: Date.now(),
      actor: entry.actor,
      action: entry.action,
      resource_type: entry.resource_type,
      resource_id: entry.resource_id ?? null,
      outcome: entry.outcome,
      ip: entry.ip ?? null,
      ...(entry.before !== undefined ? { before: entry.before } : {}),
      ...(entry.after !== undefined ? { after: entry.after } : {}),
      service: 'auth',
      ...(requestId ? { request_id: requestId } : {}),
    };
    try {
      await this.bus.publish('evt.audit.recorded.v1', event, { msgId: event.id });
    } catch (err) {
      this.logger.error({ err, action: event.action, event_id: event.id }, 'audit event not published; storing it directly');
      await this.store.append(event);
    }
  }
}
