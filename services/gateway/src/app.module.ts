import { Module, type DynamicModule } from '@nestjs/common';
import { natsTls } from '@agentmon/config';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import { HealthController, HealthModule, createMetricsRegistry } from '@agentmon/observability';
import { EventBus, MessagingModule, natsCheck } from '@agentmon/messaging';
import { ServiceConfigHolder } from '@agentmon/http-kit';
import { Access } from './access/access.decorator.js';
import { AccessModule } from './access/access.module.js';
import { AgentsModule } from './agents/agents.module.js';
import { AlertsModule } from './alerts/alerts.module.js';
import { AuthApiModule } from './auth-api/auth-api.module.js';
import { GATEWAY_CONFIG, type GatewayConfig } from './config.js';
import { JsonNotFound } from './http/json-not-found.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { LOGGER } from './logger.token.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { RealtimeModule } from './realtime/realtime.module.js';
import { REDIS, RedisModule, redisCheck } from './redis/redis.module.js';
import { RateLimitModule } from './rate-limit/rate-limit.module.js';
import { RateLimitPolicy } from './rate-limit/rate-limit-policy.decorator.js';
import { SystemModule } from './system/system.module.js';

export const SERVICE_VERSION = '0.1.0';

// /health/live, /health/ready and /metrics (from the shared library) are for probes and Prometheus:
// declared public here so the deny-by-default guard serves them, exempt from the rate limits, and kept
// out of the API document.
Access('public')(HealthController);
RateLimitPolicy('exempt')(HealthController);
ApiExcludeController()(HealthController);

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceConfigHolder.forRoot(GATEWAY_CONFIG, config, LOGGER, logger),
        // the gateway publishes no events and answers no rpc subjects: it only asks and listens
        MessagingModule.forRoot({ service: 'gateway', natsUrl: config.NATS_URL, natsTls: natsTls(config), logger, rpcTimeoutMs: config.RPC_TIMEOUT_MS }),
        RedisModule,
        RateLimitModule,
        HealthModule.forRoot({
          info: { name: 'gateway', version: SERVICE_VERSION },
          registry: createMetricsRegistry('gateway'),
          checksProvider: {
            provide: 'GATEWAY_CHECKS',
            inject: [REDIS, EventBus],
            useFactory: (redis: Redis, bus: EventBus) => [redisCheck(redis), natsCheck(bus)],
          },
        }),
        AccessModule,
        AuthApiModule,
        AgentsModule,
        MetricsModule,
        AlertsModule,
        NotificationsModule,
        DashboardModule,
        SystemModule,
        RealtimeModule,
      ],
      providers: [JsonNotFound],
    };
  }
}
