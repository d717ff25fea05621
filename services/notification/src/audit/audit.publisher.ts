import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, type AuditEvent, type Principal } from '@agentmon/contracts';
import type { Logger } from 'pino';
import { LOGGER } from '../logger.token.js';
import { EventBus } from '@agentmon/messaging';
import { currentRequestId } from '@agentmon/observability';

export interface AuditFact {
  principal: Principal;
  action: string;
  resourceId: string | null;
  outcome?: 'success' | 'failure';
  /** public views only: never a secret */
  before?: unknown;
  after?: unknown;
}

/** Publishes audit facts on the AUDIT stream; auth stores them. */
@Injectable()
export class AuditPublisher {
  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async record(fact: AuditFact): Promise<void> {
    const event: AuditEvent = {
      id: randomUUID(),
      at: Date.now(),
      actor: { kind: fact.principal.kind, id: fact.principal.id, username: fact.principal.username },
      action: fact.action,
      resource_type: 'notification_channel',
      resource_id: fact.resourceId,
      outcome: fact.outcome ?? 'success',
      ip: fact.principal.ip ?? null,
      ...(fact.before !== undefined ? { before: fact.before } : {}),
      ...(fact.after !== undefined ? { after: fact.after } : {}),
      service: 'notification',
      ...(currentRequestId() ? { request_id: currentRequestId() } : {}),
    };
    try {
      await this.bus.publish('evt.audit.recorded.v1', event, { msgId: event.id });
    } catch (err) {
      this.logger.error({ err, action: fact.action, resource_id: fact.resourceId }, 'audit event not stored');
      throw new AppError('unavailable', 'the audit log cannot be written right now; nothing was changed', undefined, 5);
    }
  }
}
