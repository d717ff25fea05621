import { hash as digest } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, type Principal } from '@agentmon/contracts';
import { RefreshingCache } from '@agentmon/http-kit';
import { RpcClient } from '@agentmon/messaging';
import { INGEST_CONFIG, type IngestConfig } from '../config.js';

type Verdict = { principal: Principal } | { refused: AppError };

/**
 * Resolves `amk_` keys through the auth service ('rpc.auth.api-key.verify.v1') and remembers the
 * answer, a refusal included, for API_KEY_CACHE_MS so the hot path does not ask auth on every
 * request (RefreshingCache of @agentmon/http-kit). Entries are keyed by the key's SHA-256 (no usable
 * secret is kept), the cache is bounded (oldest entries leave first), and concurrent requests with
 * one key share one question. When auth cannot answer (down, timeout) nothing is cached and the
 * request gets 503.
 *
 * Refresh ahead: a valid key still used once three quarters of its cache time have passed is
 * verified again in the background while its requests go on being served from the cache, so a busy
 * key never makes its requests wait for auth (without it, every busy key's requests stalled behind
 * one question to auth every API_KEY_CACHE_MS: a latency spike every 10 s, docs/benchmarks.md).
 * No answer is served past its cache time: when the refresh fails or has not come back by then, the
 * next request asks and waits, as on a miss. A refusal is not refreshed: it simply expires.
 * Revocations announced by auth (RevocationListener) forget the key, or every key of a user, at
 * once; an answer that was on its way when a revocation arrived is not remembered.
 */
@Injectable()
export class ApiKeyVerifier {
  private readonly cache: RefreshingCache<string, Verdict>;

  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(INGEST_CONFIG) config: IngestConfig,
  ) {
    this.cache = new RefreshingCache({ ttlMs: config.API_KEY_CACHE_MS, maxEntries: config.API_KEY_CACHE_SIZE });
  }

  async verify(key: string, ip?: string): Promise<Principal> {
    const verdict = await this.cache.get(digest('sha256', key, 'base64url'), () => this.ask(key, ip), (v) => 'principal' in v);
    if ('refused' in verdict) throw verdict.refused;
    return verdict.principal;
  }

  /** A key was revoked (announced by auth). */
  revokeKey(keyId: string): void {
    this.cache.deleteWhere((v) => 'principal' in v && v.principal.id === keyId);
  }

  /** A user's account changed: their keys' rights are resolved again. */
  revokeUser(userId: string): void {
    this.cache.deleteWhere((v) => 'principal' in v && v.principal.user_id === userId);
  }

  /** Revocations may have been missed: verify every key again. */
  clear(): void {
    this.cache.clear();
  }

  /** Auth's verdict on a key; throws (and so nothing is cached) when auth cannot answer. */
  private async ask(key: string, ip?: string): Promise<Verdict> {
    try {
      return { principal: await this.rpc.request('rpc.auth.api-key.verify.v1', { key, ...(ip ? { ip } : {}) }) };
    } catch (err) {
      if (!(err instanceof AppError) || ![401, 403, 404].includes(err.statusCode)) {
        // auth is down, slow or broken: say so, and remember nothing
        throw new AppError('unavailable', 'API keys cannot be verified right now; retry later', undefined, err instanceof AppError ? (err.retryAfterSeconds ?? 5) : 5);
      }
      return { refused: new AppError('unauthorized', 'API key is not valid') };
    }
  }
}
