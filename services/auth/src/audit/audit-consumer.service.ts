import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { EventBus } from '@agentmon/messaging';
import { LOGGER } from '../logger.token.js';
import { AuditLogStore } from './audit-log.store.js';

/** Durable consumer name; replicas share it, so each event is stored by one of them. */
export const AUDIT_CONSUMER = 'auth-audit';

/** Feeds audit events from every service (stream AUDIT) into audit_logs, acking once stored. */
@Injectable()
export class AuditConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(AuditLogStore) private readonly store: AuditLogStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume({
      durable: AUDIT_CONSUMER,
      subjects: ['evt.audit.recorded.v1'],
      handler: (event) => this.store.append(event),
    });
    this.logger.info({ durable: AUDIT_CONSUMER }, 'consuming audit events');
  }
}
