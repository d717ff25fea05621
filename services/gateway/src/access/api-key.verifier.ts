import { hash as digest } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, type Principal } from '@agentmon/contracts';
import { RefreshingCache } from '@agentmon/http-kit';
import { RpcClient } from '@agentmon/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { apiKeyPrincipal } from './permissions.js';

export const API_KEY_PREFIX = 'amk_';
const API_KEY_SHAPE = /^amk_[A-Za-z0-9_-]{16,256}$/;

/**
 * Resolves `amk_` keys through auth. Answers (also "not valid") are cached for API_KEY_CACHE_MS,
 * keyed by the key's SHA-256 so the cache holds no usable secret; the cache is bounded, concurrent
 * requests with one key share one question, and a valid key still in use at three quarters of its
 * time is verified again in the background (RefreshingCache of @agentmon/http-kit). A revoked key,
 * or any key of a user whose account changed, is forgotten at once when auth announces it
 * (`evt.auth.revoked.v1`, see RevocationListener); the cache time is the safety net.
 */
@Injectable()
export class ApiKeyVerifier {
  private readonly cache: RefreshingCache<string, Principal | null>;

  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.cache = new RefreshingCache({ ttlMs: config.API_KEY_CACHE_MS, maxEntries: config.API_KEY_CACHE_MAX });
  }

  async verify(key: string, ip?: string): Promise<Principal> {
    if (!API_KEY_SHAPE.test(key)) throw new AppError('unauthorized', 'API key is not valid');
    const verified = await this.cache.get(digest('sha256', key, 'hex'), () => this.ask(key, ip), (p) => p !== null);
    if (verified === null) throw new AppError('unauthorized', 'API key is not valid');
    return apiKeyPrincipal(verified, ip);
  }

  /** A key was revoked (announced by auth). */
  revokeKey(keyId: string): void {
    this.cache.deleteWhere((p) => p !== null && p.id === keyId);
  }

  /** A user's account changed: the rights of their keys are resolved again. */
  revokeUser(userId: string): void {
    this.cache.deleteWhere((p) => p !== null && p.user_id === userId);
  }

  /** Revocations may have been missed: verify every key again. */
  clear(): void {
    this.cache.clear();
  }

  /** Auth's answer: the key's principal, or null for a key that is not valid (kept); other failures are thrown (not kept). */
  private async ask(key: string, ip?: string): Promise<Principal | null> {
    try {
      return await this.rpc.request('rpc.auth.api-key.verify.v1', { key, ...(ip ? { ip } : {}) });
    } catch (err) {
      if (err instanceof AppError && err.statusCode === 401) return null;
      throw err;
    }
  }
}
