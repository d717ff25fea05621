import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import type { RevocationEvent } from '@agentmon/contracts';
import { EventBus } from '@agentmon/messaging';
import { LOGGER } from '../logger.token.js';
import { ApiKeyVerifier } from './api-key.verifier.js';
import { SessionChecker } from './session-checker.js';

export type RevocationObserver = (event: RevocationEvent) => void;

/**
 * Makes revocations take effect at once on this replica. Auth announces each one on JetStream
 * (`evt.auth.revoked.v1`, stream AGENTMON_AUTH); every gateway replica follows the stream with an
 * ordered consumer of its own (no queue group: each replica must see each revocation) and forgets
 * the cached session checks and API key answers it concerns. When events may have been missed (NATS
 * connection lost, consumer re-created) both caches are emptied. Other parts (the socket server)
 * can observe revocations to drop live connections.
 *
 * Why JetStream rather than a plain subscription: a replica briefly cut off from NATS gets what it
 * missed when its ordered consumer resumes at the next sequence, instead of serving a revoked token
 * from cache until the entry expires. The caches' time to live stays as the last safety net (an
 * announcement auth could not publish at all).
 */
@Injectable()
export class RevocationListener implements OnModuleInit {
  private readonly observers: RevocationObserver[] = [];

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(SessionChecker) private readonly sessions: SessionChecker,
    @Inject(ApiKeyVerifier) private readonly apiKeys: ApiKeyVerifier,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Runs before the HTTP port opens, so no request is served from a cache nobody invalidates. */
  async onModuleInit(): Promise<void> {
    await this.bus.follow({
      subjects: ['evt.auth.revoked.v1'],
      handler: (event) => this.apply(event),
      onGap: () => {
        this.sessions.clear();
        this.apiKeys.clear();
      },
    });
  }

  observe(observer: RevocationObserver): void {
    this.observers.push(observer);
  }

  apply(event: RevocationEvent): void {
    switch (event.scope) {
      case 'session':
        this.sessions.revokeSession(event.session_id);
        break;
      case 'api_key':
        this.apiKeys.revokeKey(event.api_key_id);
        break;
      case 'user':
        this.sessions.revokeUser(event.user_id);
        this.apiKeys.revokeUser(event.user_id);
        break;
    }
    this.logger.debug({ scope: event.scope, reason: event.reason, event_id: event.id }, 'revocation applied');
    for (const observe of this.observers) {
      try {
        observe(event);
      } catch (err) {
        this.logger.error({ err }, 'revocation observer failed');
      }
    }
  }
}
