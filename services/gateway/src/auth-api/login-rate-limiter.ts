import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppError } from '@agentmon/contracts';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { REDIS } from '../redis/redis.module.js';

const PREFIX = 'agentmon:gateway:login';

/**
 * Slows password guessing: at most LOGIN_MAX_PER_USER attempts per username and LOGIN_MAX_PER_IP per
 * client address in each LOGIN_RATE_WINDOW_S (fixed windows in Redis, so all replicas share them).
 * When Redis is away, logins are let through (logged): the limiter must not take login down with it.
 */
@Injectable()
export class LoginRateLimiter {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async attempt(username: string, ip: string | undefined): Promise<void> {
    const window = this.config.LOGIN_RATE_WINDOW_S;
    // usernames are hashed so that Redis holds no list of who tried to log in
    const buckets: [string, number][] = [[`${PREFIX}:user:${createHash('sha256').update(username.toLowerCase()).digest('hex')}`, this.config.LOGIN_MAX_PER_USER]];
    if (ip) buckets.push([`${PREFIX}:ip:${ip}`, this.config.LOGIN_MAX_PER_IP]);
    let counts: [number, number][];
    try {
      const tx = this.redis.multi();
      for (const [key] of buckets) tx.set(key, 0, 'EX', window, 'NX').incr(key).ttl(key);
      const results = (await tx.exec()) ?? [];
      counts = buckets.map((_, i) => [Number(results[i * 3 + 1]?.[1]), Number(results[i * 3 + 2]?.[1])]);
    } catch (err) {
      this.logger.warn({ err }, 'login rate limit not checked: Redis unavailable');
      return;
    }
    for (const [i, [count, ttl]] of counts.entries()) {
      if (count > buckets[i]![1]) {
        throw new AppError('rate_limited', 'too many login attempts; try again later', undefined, Math.max(1, ttl));
      }
    }
  }
}
