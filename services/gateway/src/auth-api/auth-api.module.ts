import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module.js';
import { ApiKeysController } from './api-keys.controller.js';
import { AuditLogsController } from './audit-logs.controller.js';
import { AuthController } from './auth.controller.js';
import { UsersController } from './users.controller.js';

/** The auth service's public face: login, tokens, users, API keys, the audit log. */
@Module({
  imports: [AccessModule],
  controllers: [AuthController, UsersController, ApiKeysController, AuditLogsController],
})
export class AuthApiModule {}
