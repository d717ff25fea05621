import { Global, Module } from '@nestjs/common';
import { GatewayRateLimits } from './gateway-rate-limits.service.js';

/** Rate limits in Redis, for the AccessGuard (API budgets) and the login handler (login budgets). */
@Global()
@Module({ providers: [GatewayRateLimits], exports: [GatewayRateLimits] })
export class RateLimitModule {}
