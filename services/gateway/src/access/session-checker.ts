import { Inject, Injectable } from '@nestjs/common';
import { RefreshingCache } from '@agentmon/http-kit';
import { RpcClient } from '@agentmon/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';

interface SessionState {
  sessionId: string;
  userId: string;
  active: boolean;
}

/**
 * Asks auth whether a login session is still active, so that logout, refresh-token reuse and account
 * changes stop an access token before it expires. Answers are cached for SESSION_CACHE_MS; auth
 * announces every revocation (`evt.auth.revoked.v1`, see RevocationListener), which forgets the
 * session (or every session of the user) here at once. The cache time is only the safety net for an
 * announcement that never arrives. An active session still in use at three quarters of its time is
 * checked again in the background (RefreshingCache of @agentmon/http-kit), so a user's requests do
 * not wait for auth every SESSION_CACHE_MS; an ended one simply runs out.
 */
@Injectable()
export class SessionChecker {
  /** by session and user (a token names both), so one user's answer never serves another's token */
  private readonly cache: RefreshingCache<string, SessionState>;

  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.cache = new RefreshingCache({ ttlMs: config.SESSION_CACHE_MS, maxEntries: 50_000 });
  }

  async isActive(sessionId: string, userId: string): Promise<boolean> {
    const state = await this.cache.get(
      `${sessionId}\n${userId}`,
      async () => ({ sessionId, userId, active: (await this.rpc.request('rpc.auth.session.check.v1', { session_id: sessionId })).active }),
      (s) => s.active,
    );
    return state.active;
  }

  /** After a logout through this replica: the session is over here at once. */
  ended(sessionId: string): void {
    this.cache.deleteWhere((v) => v.sessionId === sessionId);
  }

  /** A session was revoked (announced by auth). */
  revokeSession(sessionId: string): void {
    this.cache.deleteWhere((v) => v.sessionId === sessionId);
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
