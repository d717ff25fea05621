import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { SigningKeysModule } from '../signing-keys/signing-keys.module.js';
import { UsersModule } from '../users/users.module.js';
import { AuthMetricsModule } from '../metrics/auth-metrics.js';
import { RevocationsModule } from '../revocations/revocations.module.js';
import { AuthService } from './auth.service.js';
import { AuthController } from './auth.controller.js';

/** Sign-in: login, refresh, logout, JWKS and session checks. */
@Module({
  imports: [UsersModule, SessionsModule, SigningKeysModule, AuditModule, AuthMetricsModule, RevocationsModule],
  providers: [AuthService],
  controllers: [AuthController],
})
export class AuthModule {}
