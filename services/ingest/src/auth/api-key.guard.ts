import { Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AppError, type Principal } from '@agentmon/contracts';
import { extractApiKey } from './api-key.extract.js';
import { ApiKeyVerifier } from './api-key.verifier.js';

const INFLUX_V1_AUTH = 'ingest:influx-v1-auth';
/** Lets a route also take the credentials of InfluxDB 1.x clients (HTTP Basic, `?u=&p=`). */
export const AcceptsInfluxV1Credentials = () => SetMetadata(INFLUX_V1_AUTH, true);

const principals = new WeakMap<object, Principal>();
/** The principal the guard attached to a request. */
export function principalOf(req: FastifyRequest): Principal {
  const p = principals.get(req);
  if (!p) throw new AppError('unauthorized', 'API key required');
  return p;
}

/** Every ingest route needs an API key with `ingest:write` (`admin` keys hold every right). */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(ApiKeyVerifier) private readonly verifier: ApiKeyVerifier,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const influxV1 = this.reflector.get<boolean>(INFLUX_V1_AUTH, ctx.getHandler()) === true;
    const key = extractApiKey({ headers: req.headers, query: req.query as Record<string, unknown>, influxV1 });
    if (!key) throw new AppError('unauthorized', 'API key required (Authorization: Bearer amk_…, X-API-Key or Authorization: Token)');
    const principal = await this.verifier.verify(key, req.ip);
    if (!principal.permissions.includes('ingest:write') && !principal.permissions.includes('admin')) {
      throw new AppError('forbidden', 'this API key lacks the ingest:write permission');
    }
    principals.set(req, principal);
    return true;
  }
}
