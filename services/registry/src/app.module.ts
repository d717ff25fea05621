import { Module, type DynamicModule } from '@nestjs/common';
import { natsTls, postgresConnection } from '@agentmon/config';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { HealthModule, createMetricsRegistry } from '@agentmon/observability';
import { EventBus, MessagingModule, natsCheck } from '@agentmon/messaging';
import { openDataSource, postgresCheck } from '@agentmon/persistence';
import { REGISTRY_CONFIG, type RegistryConfig } from './config.js';
import { LOGGER } from './logger.token.js';
import { AgentsModule } from './agents/agents.module.js';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from './migrations/index.js';
import { HealthRpcController } from './health-rpc.controller.js';

export const SERVICE_VERSION = '0.1.0';

@Module({})
export class AppModule {
  static forRoot(config: RegistryConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigHolder.forRoot(config, logger),
        TypeOrmModule.forRootAsync({
          // openDataSource retries nothing: a broken database or migration stops the start at once.
          useFactory: () => ({ type: 'postgres', url: config.DATABASE_URL, entities: ENTITIES, migrations: MIGRATIONS, retryAttempts: 0 }),
          dataSourceFactory: async () =>
            openDataSource({ ...postgresConnection(config), entities: ENTITIES, migrations: MIGRATIONS, applicationName: 'agentmon-registry' }),
        }),
        MessagingModule.forRoot({ service: 'registry', natsUrl: config.NATS_URL, natsTls: natsTls(config), logger, streams: ['EVENTS', 'AUDIT', 'TELEMETRY'] }),
        HealthModule.forRoot({
          info: { name: 'registry', version: SERVICE_VERSION },
          registry: createMetricsRegistry('registry'),
          checksProvider: {
            provide: 'REGISTRY_CHECKS',
            inject: [getDataSourceToken(), EventBus],
            useFactory: (ds: DataSource, bus: EventBus) => [postgresCheck(ds), natsCheck(bus)],
          },
        }),
        AgentsModule,
      ],
      controllers: [HealthRpcController],
    };
  }
}

/** Makes the validated config and the logger injectable everywhere in the service. */
@Module({})
class ConfigHolder {
  static forRoot(config: RegistryConfig, logger: Logger): DynamicModule {
    return {
      module: ConfigHolder,
      global: true,
      providers: [
        { provide: REGISTRY_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
      ],
      exports: [REGISTRY_CONFIG, LOGGER],
    };
  }
}
