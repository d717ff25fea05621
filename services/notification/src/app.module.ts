import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { serviceDatabaseImports } from '@agentmon/http-kit';
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
        ...serviceDatabaseImports({
          service: 'notification',
          version: SERVICE_VERSION,
          config,
          logger,
          configToken: NOTIFICATION_CONFIG,
          loggerToken: LOGGER,
          entities: ENTITIES,
          migrations: MIGRATIONS,
          // EVENTS: consumed (alert events), so it must exist before the consumer; AUDIT: published
          streams: ['EVENTS', 'AUDIT'],
        }),
        ChannelsModule,
        DeliveryModule,
      ],
      controllers: [HealthRpcController],
    };
  }
}
