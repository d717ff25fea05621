import { Module, type DynamicModule } from '@nestjs/common';
import { natsTls, postgresConnection } from '@agentmon/config';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { HealthModule, createMetricsRegistry } from '@agentmon/observability';
import { EventBus, MessagingModule, natsCheck } from '@agentmon/messaging';
import { openDataSource, postgresCheck } from '@agentmon/persistence';
import { NOTIFICATION_CONFIG, type NotificationConfig } from './config.js';
import { LOGGER } from './logger.token.js';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from './migrations/index.js';
import { HealthRpcController } from './health-rpc.controller.js';
import { ChannelsModule } from './channels/channels.module.js';
import { DeliveryModule } from './delivery/delivery.module.js';

export const SERVICE_VERSION = '0.1.0';

@Module({})
export class AppModule {
  static forRoot(config: NotificationConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigHolder.forRoot(config, logger),
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ type: 'postgres', url: config.DATABASE_URL, entities: ENTITIES, migrations: MIGRATIONS }),
          dataSourceFactory: async () =>
            openDataSource({ ...postgresConnection(config), entities: ENTITIES, migrations: MIGRATIONS, applicationName: 'agentmon-notification' }),
        }),
        // EVENTS: consumed (alert events), so it must exist before the consumer; AUDIT: published
        MessagingModule.forRoot({ service: 'notification', natsUrl: config.NATS_URL, natsTls: natsTls(config), logger, streams: ['EVENTS', 'AUDIT'] }),
        HealthModule.forRoot({
          info: { name: 'notification', version: SERVICE_VERSION },
          registry: createMetricsRegistry('notification'),
          checksProvider: {
            provide: 'NOTIFICATION_CHECKS',
            inject: [getDataSourceToken(), EventBus],
            useFactory: (ds: DataSource, bus: EventBus) => [postgresCheck(ds), natsCheck(bus)],
          },
        }),
        ChannelsModule,
        DeliveryModule,
      ],
      controllers: [HealthRpcController],
    };
  }
}

/** Makes the validated config and the logger injectable everywhere in the service. */
@Module({})
class ConfigHolder {
  static forRoot(config: NotificationConfig, logger: Logger): DynamicModule {
    return {
      module: ConfigHolder,
      global: true,
      providers: [
        { provide: NOTIFICATION_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
      ],
      exports: [NOTIFICATION_CONFIG, LOGGER],
    };
  }
}
