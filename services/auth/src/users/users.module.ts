import { Module } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { AUTH_CONFIG, type AuthConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { AuditModule } from '../audit/audit.module.js';
import { AuditRecorder } from '../audit/audit-recorder.service.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { RevocationsModule } from '../revocations/revocations.module.js';
import { UserEntity } from './user.entity.js';
import { UsersService } from './users.service.js';
import { UsersController } from './users.controller.js';
import { ensureFirstAdmin } from './admin-bootstrap.js';

export const FIRST_ADMIN = Symbol('FIRST_ADMIN');

@Module({
  imports: [TypeOrmModule.forFeature([UserEntity]), SessionsModule, AuditModule, RevocationsModule],
  providers: [
    UsersService,
    {
      // an async factory: it completes before the service answers any request
      provide: FIRST_ADMIN,
      inject: [getDataSourceToken(), AuditRecorder, AUTH_CONFIG, LOGGER],
      useFactory: (ds: DataSource, audit: AuditRecorder, config: AuthConfig, logger: Logger) =>
        ensureFirstAdmin(ds, audit, logger, { password: config.AGENTMON_ADMIN_PASSWORD, announce: (line) => process.stdout.write(line) }),
    },
  ],
  controllers: [UsersController],
  exports: [UsersService],
})
export class UsersModule {}
