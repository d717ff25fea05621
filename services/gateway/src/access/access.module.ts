import { Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { AccessGuard } from './access.guard.js';
import { ApiKeyVerifier } from './api-key.verifier.js';
import { Authenticator } from './authenticator.service.js';
import { JwksService } from './jwks.service.js';
import { JwtStrategy } from './jwt.strategy.js';
import { RevocationListener } from './revocation.listener.js';
import { RouteAccessAudit } from './route-access.audit.js';
import { SessionChecker } from './session-checker.js';

/** Authentication (JWT, API keys) and the deny-by-default access guard of every route. */
@Module({
  imports: [DiscoveryModule],
  providers: [
    JwksService,
    SessionChecker,
    ApiKeyVerifier,
    JwtStrategy,
    Authenticator,
    RouteAccessAudit,
    RevocationListener,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [Authenticator, JwksService, SessionChecker, RouteAccessAudit, RevocationListener],
})
export class AccessModule {}
