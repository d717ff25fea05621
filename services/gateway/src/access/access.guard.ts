import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { AppError } from '@agentmon/contracts';
import { LOGGER } from '../logger.token.js';
import { GatewayRateLimits } from '../rate-limit/gateway-rate-limits.service.js';
import { ACCESS_METADATA, type AuthenticatedRequest } from './access.decorator.js';
import { Authenticator } from './authenticator.service.js';
import { ACCESS_LEVELS, allows, type AccessLevel } from './permissions.js';

/**
 * Deny by default: a route is served only when it declares its access with @Access, and only to a
 * principal that holds what it declares. 401 without valid credentials, 403 without the permission.
 * Every request is charged to its rate-limit budgets here, once it is known who asks (429 beyond).
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(Authenticator) private readonly authenticator: Authenticator,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(GatewayRateLimits) private readonly rateLimits: GatewayRateLimits,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') throw new AppError('forbidden', 'only HTTP routes are served');
    const level = this.reflector.getAllAndOverride<AccessLevel | undefined>(ACCESS_METADATA, [ctx.getHandler(), ctx.getClass()]);
    if (!level || !(ACCESS_LEVELS as readonly string[]).includes(level)) {
      this.logger.error({ controller: ctx.getClass().name, handler: ctx.getHandler().name }, 'route declares no access rule; refused');
      throw new AppError('forbidden', 'this route declares no access rule');
    }
    if (level === 'public') {
      await this.rateLimits.enforceApi(ctx, undefined);
      return true;
    }
    const req = ctx.switchToHttp().getRequest<Request & AuthenticatedRequest>();
    let principal;
    try {
      principal = await this.authenticator.authenticate({
        authorization: req.headers.authorization,
        apiKey: headerValue(req.headers['x-api-key']),
        ip: req.ip,
      });
    } catch (err) {
      if (err instanceof AppError && err.statusCode === 401) {
        ctx.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="agentmon"');
        // failed credentials count against the address (a 429 replaces the 401 once it is spent)
        await this.rateLimits.enforceApi(ctx, undefined);
      }
      throw err;
    }
    req.principal = principal;
    await this.rateLimits.enforceApi(ctx, principal);
    if (!allows(principal, level)) {
      throw new AppError('forbidden', refusal(level));
    }
    return true;
  }
}

function refusal(level: AccessLevel): string {
  if (level === 'authenticated') return 'an ingest-only API key is for the ingest port; it has no access to the gateway';
  if (level === 'user') return "this route is for a user's login session, not an API key";
  return `this needs the '${level}' permission`;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
