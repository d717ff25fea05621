import { createPublicKey } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { AppError, type RpcResponse } from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';

type Jwks = RpcResponse<'rpc.auth.jwks.v1'>;

/** Refetches on an unknown kid at most this often, so that tokens with made-up kids cannot flood auth. */
const MIN_REFETCH_MS = 2_000;

/**
 * The auth service's public signing keys, fetched over NATS and kept as PEM by kid. Keys are refetched
 * when they are older than JWKS_CACHE_MS, or at once when a token names a kid not seen yet (key
 * rotation). When auth cannot be reached, the keys already known keep working.
 */
@Injectable()
export class JwksService {
  private jwks: Jwks | undefined;
  private pems = new Map<string, string>();
  private fetchedAt = 0;
  private lastAttempt = 0;
  private inflight: Promise<void> | undefined;

  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The PEM public key for a kid; 401 when no such key exists, 503 when auth cannot be asked. */
  async publicKeyPem(kid: string): Promise<string> {
    const now = Date.now();
    const stale = now - this.fetchedAt > this.config.JWKS_CACHE_MS;
    const known = this.pems.get(kid);
    if (known && !stale) return known;
    if (known) {
      // stale but usable: refresh in the background
      void this.refresh().catch((err) => this.logger.warn({ err }, 'JWKS refresh failed; keeping the known keys'));
      return known;
    }
    if (now - this.lastAttempt >= MIN_REFETCH_MS || !this.jwks) await this.refresh();
    const pem = this.pems.get(kid);
    if (!pem) throw new AppError('unauthorized', 'token signed with an unknown key');
    return pem;
  }

  /** The JWKS as the auth service publishes it (for GET /auth/jwks). */
  async current(): Promise<Jwks> {
    if (!this.jwks || Date.now() - this.fetchedAt > this.config.JWKS_CACHE_MS) {
      try {
        await this.refresh();
      } catch (err) {
        if (!this.jwks) throw err;
        this.logger.warn({ err }, 'JWKS refresh failed; serving the known keys');
      }
    }
    return this.jwks!;
  }

  private refresh(): Promise<void> {
    this.inflight ??= (async () => {
      this.lastAttempt = Date.now();
      try {
        const jwks = await this.rpc.request('rpc.auth.jwks.v1', {});
        const pems = new Map<string, string>();
        for (const jwk of jwks.keys) {
          if (jwk.kty !== 'RSA' || jwk.alg !== 'RS256' || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
          try {
            const key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
            pems.set(jwk.kid, key.export({ type: 'spki', format: 'pem' }).toString());
          } catch (err) {
            this.logger.warn({ err, kid: jwk.kid }, 'JWKS key is not a usable RSA public key; ignored');
          }
        }
        this.jwks = jwks;
        this.pems = pems;
        this.fetchedAt = Date.now();
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}
