import { Inject, Injectable } from '@nestjs/common';
import { RpcClient } from '@agentmon/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { TtlCache } from './ttl-cache.js';

interface SessionState {
  active: boolean;
  userId: string;
}

/**
 * Asks auth whether a login session is still active, so that logout, refresh-token reuse and account
 * changes stop an access token before it expires. Answers are cached for SESSION_CACHE_MS; auth
 * announces every revocation (`evt.auth.revoked.v1`, see RevocationListener), which forgets the
 * session (or every session of the user) here at once. The cache time is only the safety net for an
 * announcement that never arrives.
 */
@Injectable()
export class SessionChecker {
  private readonly cache: TtlCache<string, SessionState>;

  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.cache = new TtlCache(config.SESSION_CACHE_MS, 50_000);
  }

  async isActive(sessionId: string, userId: string): Promise<boolean> {
    const cached = this.cache.get(sessionId);
    if (cached !== undefined && cached.userId === userId) return cached.active;
    const generation = this.cache.generation;
    const { active } = await this.rpc.request('rpc.auth.session.check.v1', { session_id: sessionId });
    this.cache.setIfUnchanged(sessionId, { active, userId }, generation);
    return active;
  }

  /** After a logout through this replica: the session is over here at once. */
  ended(sessionId: string): void {
    this.cache.deleteWhere((_v, sid) => sid === sessionId);
  }

  /** A session was revoked (announced by auth). */
  revokeSession(sessionId: string): void {
    this.cache.deleteWhere((_v, sid) => sid === sessionId);
  }

  /** Everything of a user was revoked (deactivation, new password, new role). */
  revokeUser(userId: string): void {
    this.cache.deleteWhere((v) => v.userId === userId);
  }

  /** Revocations may have been missed: ask auth again about every session. */
  clear(): void {
    this.cache.clear();
  }
}
