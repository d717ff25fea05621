import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import { serviceDatabaseImports } from '@agentmon/http-kit';
import { ALERTING_CONFIG, type AlertingConfig } from './config.js';
import { LOGGER } from './logger.token.js';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from './migrations/index.js';
import { HealthRpcController } from './health-rpc.controller.js';
import { REDIS, RedisModule, redisCheck } from './redis/redis.module.js';
import { AlertingMetricsModule } from './metrics/alerting-metrics.js';
import { RulesModule } from './rules/rules.module.js';
import { AlertsModule } from './alerts/alerts.module.js';
import { EvaluationModule } from './evaluation/evaluation.module.js';

export const SERVICE_VERSION = '0.1.0';

@Module({})
export class AppModule {
  static forRoot(config: AlertingConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...serviceDatabaseImports({
          service: 'alerting',
          version: SERVICE_VERSION,
          config,
          logger,
          configToken: ALERTING_CONFIG,
          loggerToken: LOGGER,
          entities: ENTITIES,
          migrations: MIGRATIONS,
          streams: ['EVENTS', 'AUDIT'],
          extraChecks: { inject: [REDIS], make: (redis: Redis) => [redisCheck(redis)] },
        }),
        RedisModule,
        AlertingMetricsModule,
        RulesModule,
        AlertsModule,
        EvaluationModule,
      ],
      controllers: [HealthRpcController],
    };
  }
}
