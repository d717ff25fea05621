import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { serviceDatabaseImports } from '@agentmon/http-kit';
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
        ...serviceDatabaseImports({
          service: 'registry',
          version: SERVICE_VERSION,
          config,
          logger,
          configToken: REGISTRY_CONFIG,
          loggerToken: LOGGER,
          entities: ENTITIES,
          migrations: MIGRATIONS,
          streams: ['EVENTS', 'AUDIT', 'TELEMETRY'],
        }),
        AgentsModule,
      ],
      controllers: [HealthRpcController],
    };
  }
}
