import { hash as digest } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, type Principal } from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { apiKeyPrincipal } from './permissions.js';
import { TtlCache } from './ttl-cache.js';

export const API_KEY_PREFIX = 'amk_';
const API_KEY_SHAPE = /^amk_[A-Za-z0-9_-]{16,256}$/;

/**
 * Resolves `amk_` keys through auth. Answers (also "not valid") are cached for API_KEY_CACHE_MS,
 * keyed by the key's SHA-256 so the cache holds no usable secret; the cache is bounded. A revoked key,
 * or any key of a user whose account changed, is forgotten at once when auth announces it
 * (`evt.auth.revoked.v1`, see RevocationListener); the cache time is the safety net.
 */
@Injectable()
export class ApiKeyVerifier {
  private readonly cache: TtlCache<string, Principal | null>;

  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.cache = new TtlCache(config.API_KEY_CACHE_MS, config.API_KEY_CACHE_MAX);
  }

  async verify(key: string, ip?: string): Promise<Principal> {
    if (!API_KEY_SHAPE.test(key)) throw new AppError('unauthorized', 'API key is not valid');
    const hash = digest('sha256', key, 'hex');
    const cached = this.cache.get(hash);
    if (cached === null) throw new AppError('unauthorized', 'API key is not valid');
    if (cached) return apiKeyPrincipal(cached, ip);
    const generation = this.cache.generation;
    try {
      const verified = await this.rpc.request('rpc.auth.api-key.verify.v1', { key, ...(ip ? { ip } : {}) });
      this.cache.setIfUnchanged(hash, verified, generation);
      return apiKeyPrincipal(verified, ip);
    } catch (err) {
      if (err instanceof AppError && err.statusCode === 401) {
        this.cache.set(hash, null);
        throw new AppError('unauthorized', 'API key is not valid');
      }
      throw err;
    }
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
}
