import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { RevocationEvent } from '@agentmon/contracts';
import { EventBus } from '@agentmon/messaging';
import { METRICS_REGISTRY } from '@agentmon/observability';
import { LOGGER } from '../logger.token.js';

/** A revocation as the caller states it; id and time are added here. */
export type Revocation = RevocationEvent extends infer E ? (E extends RevocationEvent ? Omit<E, 'id' | 'at'> : never) : never;

const ATTEMPTS = 3;

/**
 * Announces revocations as `evt.auth.revoked.v1` on JetStream (stream AGENTMON_AUTH), after the change
 * is committed, so every gateway and ingest replica drops what it cached about the session, key or
 * user at once instead of when its cache entry expires.
 *
 * The database stays the truth: a revocation whose announcement fails (JetStream down for the few
 * retries here) is still in force, and replicas stop honouring it within their cache time
 * (SESSION_CACHE_MS / API_KEY_CACHE_MS), the safety net. The request that revoked is not failed for it,
 * since the revocation itself succeeded; the failure is logged and counted.
 */
@Injectable()
export class RevocationPublisher {
  private readonly published: Counter<'scope' | 'outcome'>;

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.published = new Counter({
      name: 'agentmon_auth_revocations_published_total',
      help: 'Revocation announcements (evt.auth.revoked.v1) by scope and outcome (published, failed)',
      labelNames: ['scope', 'outcome'] as const,
      registers: [registry],
    });
  }

  async announce(revocation: Revocation): Promise<void> {
    const event = { id: randomUUID(), at: Date.now(), ...revocation } as RevocationEvent;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.bus.publish('evt.auth.revoked.v1', event, { msgId: event.id });
        this.published.inc({ scope: event.scope, outcome: 'published' });
        return;
      } catch (err) {
        if (attempt >= ATTEMPTS) {
          this.published.inc({ scope: event.scope, outcome: 'failed' });
          this.logger.error(
            { err, scope: event.scope, reason: event.reason, event_id: event.id },
            'revocation not announced; replicas honour it when their cache entries expire',
          );
          return;
        }
        // the stream may have been deleted while we run: create it again (idempotent), then retry
        await this.bus.ensureStreams(['AUTH']).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }
}
