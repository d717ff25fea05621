import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { redisTlsOptions } from '@agentmon/config';
import type { DependencyCheck } from '@agentmon/observability';
import { ALERTING_CONFIG, type AlertingConfig } from '../config.js';
import { RedisKeys } from './redis-keys.js';

export const REDIS = Symbol('REDIS');

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}
  async onApplicationShutdown() {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** The service's Redis connection (evaluation state, locks) and its key layout. */
@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [ALERTING_CONFIG],
      useFactory: async (config: AlertingConfig) => {
        const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 3, enableOfflineQueue: true, ...redisTlsOptions(config) });
        await redis.connect();
        return redis;
      },
    },
    { provide: RedisKeys, inject: [ALERTING_CONFIG], useFactory: (config: AlertingConfig) => new RedisKeys(config.REDIS_KEY_PREFIX) },
    RedisLifecycle,
  ],
  exports: [REDIS, RedisKeys],
})
export class RedisModule {}

export function redisCheck(redis: Redis): DependencyCheck {
  return {
    name: 'redis',
    check: async () => {
      const pong = await redis.ping();
      if (pong !== 'PONG') throw new Error(`unexpected PING reply ${pong}`);
    },
  };
}
