import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LOGGER } from '../logger.token.js';
import { REDIS } from '../redis/redis.module.js';

const PREFIX = 'agentmon:gateway:cache:';
/** a cache lookup may take this long; past it the answer is computed without the cache */
const REDIS_BUDGET_MS = 100;

/**
 * Short-lived answers of expensive read queries (aggregates, dashboard series, agent summary) in
 * Redis, shared by every gateway replica, so a wall of dashboards asks InfluxDB once per TTL instead
 * of once per browser. Keys are a hash of what the answer depends on; answers are JSON. Concurrent
 * misses of one key in a replica share one computation. When Redis is slow or down the answer is
 * computed and not cached: caching must never make a query fail.
 */
@Injectable()
export class ResponseCache {
  private readonly inflight = new Map<string, Promise<unknown>>();
  private lastWarning = 0;
  hits = 0;
  misses = 0;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  static key(kind: string, parts: unknown): string {
    return `${PREFIX}${kind}:${createHash('sha256').update(JSON.stringify(parts)).digest('base64url')}`;
  }

  /** The cached answer, or `compute()`'s, which is cached for ttlMs unless `cacheable` says no (a degraded answer). */
  async getOrCompute<T>(key: string, ttlMs: number, compute: () => Promise<T>, cacheable: (value: T) => boolean = () => true): Promise<T> {
    const cached = await this.withBudget(this.redis.get(key));
    if (typeof cached === 'string') {
      this.hits++;
      return JSON.parse(cached) as T;
    }
    this.misses++;
    const running = this.inflight.get(key);
    if (running) return running as Promise<T>;
    const p = compute()
      .then((value) => {
        if (cacheable(value)) void this.withBudget(this.redis.set(key, JSON.stringify(value), 'PX', ttlMs));
        return value;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async withBudget<T>(op: Promise<T>): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([op, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), REDIS_BUDGET_MS)))]);
    } catch (err) {
      if (Date.now() - this.lastWarning > 60_000) {
        this.lastWarning = Date.now();
        this.logger.warn({ err }, 'response cache: Redis did not answer; serving uncached');
      }
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
