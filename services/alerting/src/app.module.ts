import { Module, type DynamicModule } from '@nestjs/common';
import { natsTls, postgresConnection } from '@agentmon/config';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import { HealthModule, createMetricsRegistry } from '@agentmon/observability';
import { EventBus, MessagingModule, natsCheck } from '@agentmon/messaging';
import { openDataSource, postgresCheck } from '@agentmon/persistence';
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
        ConfigHolder.forRoot(config, logger),
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ type: 'postgres', url: config.DATABASE_URL, entities: ENTITIES, migrations: MIGRATIONS }),
          dataSourceFactory: async () =>
            openDataSource({ ...postgresConnection(config), entities: ENTITIES, migrations: MIGRATIONS, applicationName: 'agentmon-alerting' }),
        }),
        MessagingModule.forRoot({ service: 'alerting', natsUrl: config.NATS_URL, natsTls: natsTls(config), logger, streams: ['EVENTS', 'AUDIT'] }),
        RedisModule,
        HealthModule.forRoot({
          info: { name: 'alerting', version: SERVICE_VERSION },
          registry: createMetricsRegistry('alerting'),
          checksProvider: {
            provide: 'ALERTING_CHECKS',
            inject: [getDataSourceToken(), REDIS, EventBus],
            useFactory: (ds: DataSource, redis: Redis, bus: EventBus) => [postgresCheck(ds), redisCheck(redis), natsCheck(bus)],
          },
        }),
        AlertingMetricsModule,
        RulesModule,
        AlertsModule,
        EvaluationModule,
      ],
      controllers: [HealthRpcController],
    };
  }
}

/** Makes the validated config and the logger injectable everywhere in the service. */
@Module({})
class ConfigHolder {
  static forRoot(config: AlertingConfig, logger: Logger): DynamicModule {
    return {
      module: ConfigHolder,
      global: true,
      providers: [
        { provide: ALERTING_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
      ],
      exports: [ALERTING_CONFIG, LOGGER],
    };
  }
}
