import { Inject, Injectable } from '@nestjs/common';
import { RpcClient } from '@agentmon/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { TtlCache } from './ttl-cache.js';

/**
 * Asks auth whether a login session is still active, so that logout (and refresh-token reuse, which
 * revokes the session) stops an access token before it expires. Answers are cached for
 * SESSION_CACHE_MS; a logout through this replica forgets its entry at once.
 */
@Injectable()
export class SessionChecker {
  private readonly cache: TtlCache<string, boolean>;

  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.cache = new TtlCache(config.SESSION_CACHE_MS, 50_000);
  }

  async isActive(sessionId: string): Promise<boolean> {
    const cached = this.cache.get(sessionId);
    if (cached !== undefined) return cached;
    const { active } = await this.rpc.request('rpc.auth.session.check.v1', { session_id: sessionId });
    this.cache.set(sessionId, active);
    return active;
  }

  /** After a logout: the session is over for this replica at once. */
  ended(sessionId: string): void {
    this.cache.set(sessionId, false);
  }
}
