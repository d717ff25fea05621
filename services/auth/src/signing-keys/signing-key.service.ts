import type { OnModuleDestroy } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { AppError } from '@agentmon/contracts';
import type { AuthConfig } from '../config.js';
import { ADVISORY_LOCKS } from '../advisory-locks.js';
import { SecretBoxError } from '../crypto/secret-box.js';
import { JWT_ALG, generateSigningKey, openSigningKey, signAccessToken, type AccessTokenSubject, type PublicJwk, type SigningKey } from './jwt.js';

const DAY_MS = 86_400_000;
/** how often a replica checks for rotation and picks up a key another replica made */
const MAINTENANCE_INTERVAL_MS = 60_000;
/** how long a JWKS answer may come from memory */
const JWKS_MAX_STALENESS_MS = 15_000;

interface KeyRow {
  kid: string;
  public_jwk: PublicJwk;
  private_key_enc: string;
  status: 'active' | 'retired';
  created_at: Date;
  retired_at: Date | null;
}

/**
 * The JWT signing keys: makes the first key pair, rotates it by age, signs access tokens with the
 * active key and publishes the public keys (the active one and the retired ones whose tokens may
 * still be valid, at least the previous one) as the JWKS.
 */
export class SigningKeyService implements OnModuleDestroy {
  private active?: SigningKey;
  private published: PublicJwk[] = [];
  private loadedAt = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly ds: DataSource,
    private readonly config: AuthConfig,
    private readonly logger: Logger,
  ) {}

  /** Runs before the service answers anything (an async provider factory awaits it). */
  async start(): Promise<void> {
    const outcome = await this.ensureActiveKey();
    if (outcome !== 'kept') this.logger.info({ outcome }, 'JWT signing key ready');
    await this.reload(true);
    this.timer = setInterval(() => void this.maintain(), MAINTENANCE_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async signAccessToken(subject: AccessTokenSubject): Promise<{ token: string; expiresIn: number }> {
    if (!this.active) throw new AppError('unavailable', 'signing key not loaded yet', undefined, 1);
    const expiresIn = this.config.ACCESS_TOKEN_TTL_S;
    return { token: await signAccessToken(this.active, subject, expiresIn), expiresIn };
  }

  async jwks(): Promise<{ keys: PublicJwk[] }> {
    if (Date.now() - this.loadedAt > JWKS_MAX_STALENESS_MS) {
      await this.reload(false).catch((err) => this.logger.warn({ err }, 'JWKS reload failed; serving the keys in memory'));
    }
    return { keys: this.published.map((k) => ({ ...k })) };
  }

  /** Retires the active key and makes a new one now (operations, tests). */
  async rotate(): Promise<void> {
    await this.ensureActiveKey(true);
    await this.reload(false);
  }

  /**
   * Makes the first key, or a new one when the active key is older than the rotation age (or when
   * forced). Replicas serialise on an advisory lock, so exactly one of them does it.
   */
  async ensureActiveKey(force = false): Promise<'kept' | 'created' | 'rotated'> {
    return this.ds.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.signingKeys]);
      const [current] = (await m.query(`SELECT kid, created_at FROM signing_keys WHERE status = 'active'`)) as Pick<KeyRow, 'kid' | 'created_at'>[];
      const maxAge = this.config.SIGNING_KEY_ROTATE_AFTER_DAYS * DAY_MS;
      if (current && !force && Date.now() - new Date(current.created_at).getTime() < maxAge) return 'kept';
      if (current) await m.query(`UPDATE signing_keys SET status = 'retired', retired_at = now() WHERE kid = $1`, [current.kid]);
      const key = await generateSigningKey(this.config.AUTH_ENCRYPTION_KEY);
      await m.query(`INSERT INTO signing_keys (kid, alg, public_jwk, private_key_enc, status) VALUES ($1, $2, $3, $4, 'active')`, [
        key.kid,
        JWT_ALG,
        JSON.stringify(key.publicJwk),
        key.privateKeyEnc,
      ]);
      return current ? 'rotated' : 'created';
    });
  }

  /**
   * Loads the active key (decrypting it only when it changed) and the public keys to publish: the
   * active key, every key retired less than an access-token lifetime ago, and always the previous key.
   */
  private async reload(atStart: boolean): Promise<void> {
    const graceMs = (this.config.ACCESS_TOKEN_TTL_S + 300) * 1000;
    const rows = (await this.ds.query(
      `SELECT kid, public_jwk, private_key_enc, status, created_at, retired_at FROM signing_keys
        WHERE status = 'active'
           OR retired_at > now() - make_interval(secs => $1::double precision)
           OR kid = (SELECT kid FROM signing_keys WHERE status = 'retired' ORDER BY retired_at DESC LIMIT 1)
        ORDER BY status = 'active' DESC, retired_at DESC`,
      [graceMs / 1000],
    )) as KeyRow[];
    const activeRow = rows.find((r) => r.status === 'active');
    if (!activeRow) throw new Error('no active JWT signing key in signing_keys');
    if (this.active?.kid !== activeRow.kid) {
      try {
        this.active = await openSigningKey(this.config.AUTH_ENCRYPTION_KEY, { kid: activeRow.kid, privateKeyEnc: activeRow.private_key_enc });
      } catch (err) {
        if (!(err instanceof SecretBoxError)) throw err;
        const message =
          `cannot decrypt JWT signing key ${activeRow.kid} with AUTH_ENCRYPTION_KEY: ` +
          'it is not the key the signing keys were encrypted with (restore the original AUTH_ENCRYPTION_KEY)';
        if (atStart) throw new Error(message);
        this.logger.error({ kid: activeRow.kid }, message);
        return;
      }
      if (!atStart) this.logger.info({ kid: activeRow.kid }, 'now signing with a new JWT signing key');
    }
    this.published = rows.map((r) => r.public_jwk);
    this.loadedAt = Date.now();
  }

  private async maintain(): Promise<void> {
    try {
      const outcome = await this.ensureActiveKey();
      if (outcome !== 'kept') this.logger.info({ outcome }, 'JWT signing key rotated');
      await this.reload(false);
    } catch (err) {
      this.logger.warn({ err }, 'signing key maintenance failed; will retry');
    }
  }
}
