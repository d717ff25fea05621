import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { EventBus } from '@agentmon/messaging';
import { NOTIFICATION_CONFIG, type NotificationConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { DeliveryService } from './delivery.service.js';

export const DISPATCHER_DURABLE = 'notification-dispatcher';

/** Some channels of an alert event still need another attempt: the event is redelivered later. */
export class DeliveryPending extends Error {
  constructor(alertId: string, event: string, pending: number) {
    super(`${pending} channel(s) not yet notified of alert ${alertId} (${event}); retrying with backoff`);
    this.name = 'DeliveryPending';
    // an expected condition, not a bug: keep the warning line short
    this.stack = `${this.name}: ${this.message}`;
  }
}

/**
 * The durable JetStream consumer of alert events, shared by every replica. A message is acked once
 * each of its channels either got the notification or used up MAX_ATTEMPTS; otherwise it is naked
 * and comes back after the bus's exponential backoff (1 s, 2 s, 4 s, ... capped at 30 s).
 */
@Injectable()
export class AlertDispatcher implements OnApplicationBootstrap {
  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(DeliveryService) private readonly delivery: DeliveryService,
    @Inject(NOTIFICATION_CONFIG) private readonly config: NotificationConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume({
      durable: DISPATCHER_DURABLE,
      subjects: ['evt.alerting.alert.fired.v1', 'evt.alerting.alert.resolved.v1'],
      // one attempt per channel runs in parallel, each bounded by the delivery timeout
      ackWaitMs: this.config.DELIVERY_TIMEOUT_MS + 30_000,
      maxAckPending: 256,
      handler: async (event, meta) => {
        const kind = meta.subject === 'evt.alerting.alert.fired.v1' ? 'firing' : 'resolved';
        // keep the message ours while slow channels are being tried
        const keepAlive = setInterval(() => meta.msg.working(), 10_000);
        try {
          const outcome = await this.delivery.deliverAlertEvent(event, kind);
          if (outcome.pending.length > 0) throw new DeliveryPending(event.alert.id, kind, outcome.pending.length);
        } finally {
          clearInterval(keepAlive);
        }
      },
    });
    this.logger.info({ durable: DISPATCHER_DURABLE }, 'alert event consumer started');
  }
}
