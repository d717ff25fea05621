import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AppError, type Principal } from '@agentmon/contracts';
import { RateLimiter, rateLimitHeaders, type RateLimitCharge, type WhenRedisUnavailable } from '@agentmon/http-kit';
import { METRICS_REGISTRY } from '@agentmon/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { REDIS } from '../redis/redis.module.js';
import { apiCharges, gatewayBudgets, loginCharges, type GatewayBudgets } from './gateway-budgets.js';
import { RATE_LIMIT_POLICY, type RateLimitPolicyName } from './rate-limit-policy.decorator.js';

export const GATEWAY_RATE_LIMIT_PREFIX = 'agentmon:gateway:rl:';

/**
 * The gateway's rate limits, shared by every replica through Redis (one script call per request):
 * - API budgets, charged by the AccessGuard once it knows who is asking: per user or per API key,
 *   and per client address; requests that fail authentication are charged to their address.
 *   When Redis is away they are not checked (logged, counted): the API stays up.
 * - login budgets, charged by the login handler: per username and per client address. When Redis
 *   is away they are checked in this process only, so password guessing stays throttled (per replica).
 * Every charged answer carries RateLimit-Policy and RateLimit; a refusal is 429 with Retry-After.
 */
@Injectable()
export class GatewayRateLimits {
  readonly budgets: GatewayBudgets;
  private readonly limiter: RateLimiter;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {
    this.budgets = gatewayBudgets(config);
    this.limiter = new RateLimiter({ redis, keyPrefix: GATEWAY_RATE_LIMIT_PREFIX, timeoutMs: config.RATE_LIMIT_REDIS_TIMEOUT_MS, logger, registry });
  }

  /** Charges the API budgets of the route's request (nothing on `login` and `exempt` routes). */
  async enforceApi(ctx: ExecutionContext, principal: Principal | undefined): Promise<void> {
    const policy = this.reflector.getAllAndOverride<RateLimitPolicyName | undefined>(RATE_LIMIT_POLICY, [ctx.getHandler(), ctx.getClass()]) ?? 'api';
    if (policy !== 'api') return;
    const http = ctx.switchToHttp();
    const req = http.getRequest<Request>();
    await this.enforce(apiCharges(this.budgets, principal, req.ip), http.getResponse<Response>(), 'allow', 'too many requests');
  }

  /** Charges one login attempt for `username` from the request's address. */
  async enforceLogin(username: string, req: Request): Promise<void> {
    await this.enforce(loginCharges(this.budgets, username, req.ip), req.res, 'local', 'too many login attempts');
  }

  private async enforce(charges: RateLimitCharge[], res: Response | undefined, whenUnavailable: WhenRedisUnavailable, what: string): Promise<void> {
    if (charges.length === 0) return;
    const decision = await this.limiter.consume(charges, whenUnavailable);
    const headers = rateLimitHeaders(decision);
    if (headers && res && !res.headersSent) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (!decision.allowed) {
      const budgets = decision.outcomes.filter((o) => !o.allowed).map((o) => o.budget.name);
      throw new AppError('rate_limited', `${what} (${budgets.join(', ')}); retry in ${decision.retryAfterSeconds} s`, undefined, decision.retryAfterSeconds);
    }
  }
}
