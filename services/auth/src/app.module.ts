import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { serviceDatabaseImports } from '@agentmon/http-kit';
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
        ...serviceDatabaseImports({
          service: 'auth',
          version: SERVICE_VERSION,
          config,
          logger,
          configToken: AUTH_CONFIG,
          loggerToken: LOGGER,
          entities: ENTITIES,
          migrations: MIGRATIONS,
          streams: ['AUDIT', 'AUTH'],
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
