import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { AppError } from '@agentmon/contracts';
import { LOGGER } from '../logger.token.js';
import { ACCESS_METADATA, type AuthenticatedRequest } from './access.decorator.js';
import { Authenticator } from './authenticator.service.js';
import { ACCESS_LEVELS, allows, type AccessLevel } from './permissions.js';

/**
 * Deny by default: a route is served only when it declares its access with @Access, and only to a
 * principal that holds what it declares. 401 without valid credentials, 403 without the permission.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(Authenticator) private readonly authenticator: Authenticator,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') throw new AppError('forbidden', 'only HTTP routes are served');
    const level = this.reflector.getAllAndOverride<AccessLevel | undefined>(ACCESS_METADATA, [ctx.getHandler(), ctx.getClass()]);
    if (!level || !(ACCESS_LEVELS as readonly string[]).includes(level)) {
      this.logger.error({ controller: ctx.getClass().name, handler: ctx.getHandler().name }, 'route declares no access rule; refused');
      throw new AppError('forbidden', 'this route declares no access rule');
    }
    if (level === 'public') return true;
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
      }
      throw err;
    }
    req.principal = principal;
    if (!allows(principal, level)) {
      throw new AppError('forbidden', level === 'authenticated' ? 'not allowed' : `this needs the '${level}' permission`);
    }
    return true;
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
