import { hash as digest } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, type Principal } from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { INGEST_CONFIG, type IngestConfig } from '../config.js';

type Verdict = { principal: Principal } | { refused: AppError };

interface CacheEntry {
  verdict: Verdict;
  expires: number;
  /** from then on a request of the key starts a background refresh */
  refreshAt: number;
}

/** Once this share of API_KEY_CACHE_MS has passed, a key in use is verified again in the background. */
export const REFRESH_AFTER_SHARE = 0.75;

/**
 * Resolves `amk_` keys through the auth service ('rpc.auth.api-key.verify.v1') and remembers the
 * answer, a refusal included, for API_KEY_CACHE_MS so the hot path does not ask auth on every
 * request. Entries are keyed by the key's SHA-256 (no usable secret is kept), the cache is bounded
 * (oldest entries leave first), and concurrent requests with one key share one question.
 * When auth cannot answer (down, timeout) nothing is cached and the request gets 503.
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
  private readonly cache = new Map<string, CacheEntry>();
  private readonly asking = new Map<string, Promise<Verdict>>();
  /** changes on every revocation; answers asked for under an older generation are not cached */
  private generation = 0;
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(INGEST_CONFIG) config: IngestConfig,
  ) {
    this.ttlMs = config.API_KEY_CACHE_MS;
    this.maxEntries = config.API_KEY_CACHE_SIZE;
  }

  async verify(key: string, ip?: string): Promise<Principal> {
    const hash = digest('sha256', key, 'base64url');
    const now = Date.now();
    const hit = this.cache.get(hash);
    let verdict: Verdict;
    if (hit && hit.expires > now) {
      verdict = hit.verdict;
      if (now >= hit.refreshAt && 'principal' in verdict) this.refresh(key, hash, ip, hit);
    } else {
      if (hit) this.cache.delete(hash);
      verdict = await (this.asking.get(hash) ?? this.question(key, hash, ip));
    }
    if ('refused' in verdict) throw verdict.refused;
    return verdict.principal;
  }

  /** One question to auth for a key, shared by every request that needs the answer meanwhile. */
  private question(key: string, hash: string, ip?: string): Promise<Verdict> {
    const asked: Promise<Verdict> = this.ask(key, hash, ip).finally(() => {
      if (this.asking.get(hash) === asked) this.asking.delete(hash);
    });
    this.asking.set(hash, asked);
    return asked;
  }

  /**
   * A background refresh: the key's requests are served from the cache meanwhile. One that fails is
   * not tried again (auth being down must not draw a question per request): the entry runs out, and
   * the next request asks and reports what it gets.
   */
  private refresh(key: string, hash: string, ip: string | undefined, entry: CacheEntry): void {
    if (this.asking.has(hash)) return;
    this.question(key, hash, ip).catch(() => {
      entry.refreshAt = Infinity;
    });
  }

  /** A key was revoked (announced by auth). */
  revokeKey(keyId: string): void {
    this.forget((v) => 'principal' in v && v.principal.id === keyId);
  }

  /** A user's account changed: their keys' rights are resolved again. */
  revokeUser(userId: string): void {
    this.forget((v) => 'principal' in v && v.principal.user_id === userId);
  }

  /** Revocations may have been missed: verify every key again. */
  clear(): void {
    this.forget(() => true);
  }

  private forget(pick: (verdict: Verdict) => boolean): void {
    this.generation++;
    // questions already on their way may be answered from before the revocation: later requests ask anew
    this.asking.clear();
    for (const [hash, entry] of this.cache) if (pick(entry.verdict)) this.cache.delete(hash);
  }

  private async ask(key: string, hash: string, ip?: string): Promise<Verdict> {
    const generation = this.generation;
    let verdict: Verdict;
    try {
      verdict = { principal: await this.rpc.request('rpc.auth.api-key.verify.v1', { key, ...(ip ? { ip } : {}) }) };
    } catch (err) {
      if (!(err instanceof AppError) || ![401, 403, 404].includes(err.statusCode)) {
        // auth is down, slow or broken: say so, and remember nothing
        throw new AppError('unavailable', 'API keys cannot be verified right now; retry later', undefined, err instanceof AppError ? (err.retryAfterSeconds ?? 5) : 5);
      }
      verdict = { refused: new AppError('unauthorized', 'API key is not valid') };
    }
    if (this.ttlMs > 0 && generation === this.generation) {
      const at = Date.now();
      // set anew, so the key moves to the young end of the bounded map
      this.cache.delete(hash);
      this.cache.set(hash, { verdict, expires: at + this.ttlMs, refreshAt: at + this.ttlMs * REFRESH_AFTER_SHARE });
      while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    }
    return verdict;
  }
}
