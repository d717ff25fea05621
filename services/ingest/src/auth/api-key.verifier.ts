import { hash as digest } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, type Principal } from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { INGEST_CONFIG, type IngestConfig } from '../config.js';

type Verdict = { principal: Principal } | { refused: AppError };

/**
 * Resolves `amk_` keys through the auth service ('rpc.auth.api-key.verify.v1') and remembers the
 * answer, a refusal included, for API_KEY_CACHE_MS so the hot path does not ask auth on every
 * request. Entries are keyed by the key's SHA-256 (no usable secret is kept), the cache is bounded
 * (oldest entries leave first), and concurrent requests with one key share one question.
 * When auth cannot answer (down, timeout) nothing is cached and the request gets 503.
 * Revocations announced by auth (RevocationListener) forget the key, or every key of a user, at
 * once; an answer that was on its way when a revocation arrived is not remembered.
 */
@Injectable()
export class ApiKeyVerifier {
  private readonly cache = new Map<string, { verdict: Verdict; expires: number }>();
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
    if (hit && hit.expires > now) verdict = hit.verdict;
    else {
      if (hit) this.cache.delete(hash);
      let pending = this.asking.get(hash);
      if (!pending) {
        const asked: Promise<Verdict> = this.ask(key, hash, ip).finally(() => {
          if (this.asking.get(hash) === asked) this.asking.delete(hash);
        });
        pending = asked;
        this.asking.set(hash, asked);
      }
      verdict = await pending;
    }
    if ('refused' in verdict) throw verdict.refused;
    return verdict.principal;
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
      this.cache.set(hash, { verdict, expires: Date.now() + this.ttlMs });
      while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    }
    return verdict;
  }
}
