import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { redisTlsOptions } from '@agentmon/config';
import type { Logger } from 'pino';
import type { DependencyCheck } from '@agentmon/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';

export const REDIS = Symbol('REDIS');

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}
  async onApplicationShutdown() {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/**
 * The gateway's Redis. It fails fast while Redis is away (commands are not queued without end), so a
 * Redis outage shows as "down" in health instead of hanging requests.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [GATEWAY_CONFIG, LOGGER],
      useFactory: (config: GatewayConfig, logger: Logger) => {
        const redis = new Redis(config.REDIS_URL, {
          lazyConnect: false,
          maxRetriesPerRequest: 1,
          enableOfflineQueue: true,
          connectTimeout: 5_000,
          retryStrategy: (times) => Math.min(times * 200, 5_000),
          ...redisTlsOptions(config),
        });
        let lastError = '';
        redis.on('error', (err: Error) => {
          // one line per distinct failure, not one per reconnect attempt
          if (err.message !== lastError) logger.warn({ err }, 'redis connection error');
          lastError = err.message;
        });
        redis.on('ready', () => {
          lastError = '';
        });
        return redis;
      },
    },
    RedisLifecycle,
  ],
  exports: [REDIS],
})
export class RedisModule {}

export function redisCheck(redis: Redis): DependencyCheck {
  return {
    name: 'redis',
    check: async () => {
      const pong = await redis.ping();
      if (pong !== 'PONG') throw new Error(`unexpected PING answer ${pong}`);
    },
  };
}
