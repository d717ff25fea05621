import { Module, type DynamicModule } from '@nestjs/common';
import { natsTls, postgresConnection } from '@agentmon/config';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { HealthModule, createMetricsRegistry } from '@agentmon/observability';
import { EventBus, MessagingModule, natsCheck } from '@agentmon/messaging';
import { openDataSource, postgresCheck } from '@agentmon/persistence';
import { AUTH_CONFIG, type AuthConfig } from './config.js';
import { LOGGER } from './logger.token.js';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from './migrations/index.js';
import { HealthRpcController } from './health-rpc.controller.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { UsersModule } from './users/users.module.js';
import { ApiKeysModule } from './api-keys/api-keys.module.js';

export const SERVICE_VERSION = '0.1.0';

@Module({})
export class AppModule {
  static forRoot(config: AuthConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigHolder.forRoot(config, logger),
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ type: 'postgres', url: config.DATABASE_URL, entities: ENTITIES, migrations: MIGRATIONS }),
          dataSourceFactory: async () =>
            openDataSource({ ...postgresConnection(config), entities: ENTITIES, migrations: MIGRATIONS, applicationName: 'agentmon-auth' }),
        }),
        MessagingModule.forRoot({ service: 'auth', natsUrl: config.NATS_URL, natsTls: natsTls(config), logger, streams: ['AUDIT', 'AUTH'] }),
        HealthModule.forRoot({
          info: { name: 'auth', version: SERVICE_VERSION },
          registry: createMetricsRegistry('auth'),
          checksProvider: {
            provide: 'AUTH_CHECKS',
            inject: [getDataSourceToken(), EventBus],
            useFactory: (ds: DataSource, bus: EventBus) => [postgresCheck(ds), natsCheck(bus)],
          },
        }),
        AuditModule,
        UsersModule,
        AuthModule,
        ApiKeysModule,
      ],
      controllers: [HealthRpcController],
    };
  }
}

/** Makes the validated config and the logger injectable everywhere in the service. */
@Module({})
class ConfigHolder {
  static forRoot(config: AuthConfig, logger: Logger): DynamicModule {
    return {
      module: ConfigHolder,
      global: true,
      providers: [
        { provide: AUTH_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
      ],
      exports: [AUTH_CONFIG, LOGGER],
    };
  }
}
