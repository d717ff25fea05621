import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { RevocationEvent } from '@agentmon/contracts';
import { EventBus } from '@agentmon/messaging';
import { ApiKeyVerifier } from './api-key.verifier.js';

/**
 * Revoked API keys stop working on this replica at once. Auth announces each revocation on
 * JetStream (`evt.auth.revoked.v1`, stream AGENTMON_AUTH); every ingest replica follows it with an
 * ordered consumer of its own and forgets the cached answer for the key (or for every key of a user
 * whose account changed). When announcements may have been missed (NATS connection lost, consumer
 * re-created) the whole cache is emptied. API_KEY_CACHE_MS stays as the safety net for an
 * announcement auth could not publish.
 */
@Injectable()
export class RevocationListener implements OnModuleInit {
  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(ApiKeyVerifier) private readonly verifier: ApiKeyVerifier,
  ) {}

  /** Before the HTTP port opens, so no key is served from a cache nobody invalidates. */
  async onModuleInit(): Promise<void> {
    await this.bus.follow({ subjects: ['evt.auth.revoked.v1'], handler: (e) => this.apply(e), onGap: () => this.verifier.clear() });
  }

  apply(event: RevocationEvent): void {
    if (event.scope === 'api_key') this.verifier.revokeKey(event.api_key_id);
    else if (event.scope === 'user') this.verifier.revokeUser(event.user_id);
    // a session revocation concerns login sessions, which the ingest port does not take
  }
}
