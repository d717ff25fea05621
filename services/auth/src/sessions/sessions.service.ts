import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { AUTH_CONFIG, type AuthConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { REFRESH_TOKEN_PREFIX, newOpaqueToken, sha256Hex } from '../crypto/opaque-token.js';
import { isUuid } from '../principal.js';

export interface ClientInfo {
  ip?: string | undefined;
  user_agent?: string | undefined;
}
export interface IssuedRefreshToken {
  /** the session (token family) id: `sid` in access tokens */
  sessionId: string;
  userId: string;
  refreshToken: string;
}
export type RotationResult =
  | ({ outcome: 'rotated' } & IssuedRefreshToken)
  /** an already-rotated token came back: the family is revoked */
  | { outcome: 'reused'; sessionId: string; userId: string }
  | { outcome: 'invalid'; reason: 'unknown' | 'expired' | 'revoked' };

export type RevokeReason = 'logout' | 'reuse' | 'user_deactivated' | 'password_changed' | 'role_changed' | 'user_inactive';

/** rows past their expiry for this long are deleted (reuse of a token that old is refused as unknown) */
const PURGE_AFTER_EXPIRY = '7 days';
const PURGE_INTERVAL_MS = 3_600_000;

/**
 * Login sessions as families of single-use refresh tokens, stored as SHA-256 hashes. Each refresh
 * atomically retires the presented token and adds its successor; presenting a retired token again
 * means it was stolen or replayed, so the whole family is revoked.
 */
@Injectable()
export class SessionsService implements OnModuleInit, OnModuleDestroy {
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.purgeTimer = setInterval(() => void this.purgeExpired().catch((err) => this.logger.warn({ err }, 'session purge failed')), PURGE_INTERVAL_MS);
    this.purgeTimer.unref();
  }
  onModuleDestroy(): void {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
  }

  /** A new session for a user who just proved who they are. */
  async start(userId: string, client: ClientInfo): Promise<IssuedRefreshToken> {
    const sessionId = randomUUID();
    const refreshToken = await this.insertToken(this.ds.manager, sessionId, userId, client);
    return { sessionId, userId, refreshToken };
  }

  async rotate(refreshToken: string, client: ClientInfo): Promise<RotationResult> {
    const hash = sha256Hex(refreshToken);
    return this.ds.transaction(async (m) => {
      const successor = randomUUID();
      const claimed = (await m.query(
        `UPDATE user_sessions SET rotated_at = now(), replaced_by = $2
          WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > now()
          RETURNING family_id, user_id`,
        [hash, successor],
      )) as [Array<{ family_id: string; user_id: string }>, number];
      const row = claimed[0][0];
      if (row) {
        const token = await this.insertToken(m, row.family_id, row.user_id, client, successor);
        return { outcome: 'rotated', sessionId: row.family_id, userId: row.user_id, refreshToken: token };
      }
      const [known] = (await m.query(
        `SELECT family_id, user_id, rotated_at, revoked_at, expires_at <= now() AS expired FROM user_sessions WHERE token_hash = $1`,
        [hash],
      )) as Array<{ family_id: string; user_id: string; rotated_at: Date | null; revoked_at: Date | null; expired: boolean }>;
      if (!known) return { outcome: 'invalid', reason: 'unknown' };
      if (known.rotated_at !== null) {
        await this.revokeFamilyWith(m, known.family_id, 'reuse');
        return { outcome: 'reused', sessionId: known.family_id, userId: known.user_id };
      }
      return { outcome: 'invalid', reason: known.revoked_at !== null ? 'revoked' : 'expired' };
    });
  }

  /** Ends a session (all tokens of the family). Returns false when it was not this user's live session. */
  async revokeSession(sessionId: string, userId: string, reason: RevokeReason): Promise<boolean> {
    if (!isUuid(sessionId)) return false;
    const [, count] = (await this.ds.query(
      `UPDATE user_sessions SET revoked_at = now(), revoked_reason = $3 WHERE family_id = $1 AND user_id = $2 AND revoked_at IS NULL`,
      [sessionId, userId, reason],
    )) as [unknown, number];
    return count > 0;
  }

  /** Ends every session of a user (deactivation, password change), inside the caller's transaction. */
  async revokeAllForUser(userId: string, reason: RevokeReason, manager: EntityManager = this.ds.manager): Promise<number> {
    const [, count] = (await manager.query(
      `UPDATE user_sessions SET revoked_at = now(), revoked_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL`,
      [userId, reason],
    )) as [unknown, number];
    return count;
  }

  async revokeFamily(sessionId: string, reason: RevokeReason): Promise<void> {
    await this.revokeFamilyWith(this.ds.manager, sessionId, reason);
  }

  /** A session is active while its newest refresh token is neither used, revoked nor expired. */
  async isActive(sessionId: string): Promise<boolean> {
    if (!isUuid(sessionId)) return false;
    const [row] = (await this.ds.query(
      `SELECT EXISTS (SELECT 1 FROM user_sessions
         WHERE family_id = $1 AND revoked_at IS NULL AND rotated_at IS NULL AND expires_at > now()) AS active`,
      [sessionId],
    )) as Array<{ active: boolean }>;
    return row?.active === true;
  }

  async purgeExpired(): Promise<number> {
    const [, count] = (await this.ds.query(`DELETE FROM user_sessions WHERE expires_at < now() - interval '${PURGE_AFTER_EXPIRY}'`)) as [
      unknown,
      number,
    ];
    return count;
  }

  private async revokeFamilyWith(m: EntityManager, familyId: string, reason: RevokeReason): Promise<void> {
    await m.query(`UPDATE user_sessions SET revoked_at = now(), revoked_reason = $2 WHERE family_id = $1 AND revoked_at IS NULL`, [
      familyId,
      reason,
    ]);
  }

  private async insertToken(m: EntityManager, familyId: string, userId: string, client: ClientInfo, id: string = randomUUID()): Promise<string> {
    const token = newOpaqueToken(REFRESH_TOKEN_PREFIX);
    await m.query(
      `INSERT INTO user_sessions (id, family_id, user_id, token_hash, expires_at, ip, user_agent)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::double precision), $6, $7)`,
      [id, familyId, userId, sha256Hex(token), this.config.REFRESH_TOKEN_TTL_S, client.ip ?? null, client.user_agent?.slice(0, 512) ?? null],
    );
    return token;
  }
}
