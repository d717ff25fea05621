import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppError, type Principal } from '@agentmon/contracts';
import { extractApiKey } from './api-key.extract.js';
import { ApiKeyVerifier } from './api-key.verifier.js';

const principals = new WeakMap<object, Principal>();
/** The principal the guard attached to a request. */
export function principalOf(req: FastifyRequest): Principal {
  const p = principals.get(req);
  if (!p) throw new AppError('unauthorized', 'API key required');
  return p;
}

/**
 * The principal of a request to the ingest port: its API key (with `influxV1`, also the 1.x write
 * API's credentials) verified, and the key holding `ingest:write` (`admin` keys hold every right).
 * Throws 401 without a key or with a key auth refuses, 403 without the permission. The push routes
 * (PushRoutes) call it themselves; Nest routes through ApiKeyGuard.
 */
export async function ingestPrincipal(verifier: ApiKeyVerifier, req: FastifyRequest, influxV1: boolean): Promise<Principal> {
  const key = extractApiKey({ headers: req.headers, query: req.query as Record<string, unknown>, influxV1 });
  if (!key) throw new AppError('unauthorized', 'API key required (Authorization: Bearer amk_…, X-API-Key or Authorization: Token)');
  const principal = await verifier.verify(key, req.ip);
  if (!principal.permissions.includes('ingest:write') && !principal.permissions.includes('admin')) {
    throw new AppError('forbidden', 'this API key lacks the ingest:write permission');
  }
  return principal;
}

/** Every Nest route of the ingest port (the agent routes) needs an API key with `ingest:write` (ingestPrincipal). */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(ApiKeyVerifier) private readonly verifier: ApiKeyVerifier) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    principals.set(req, await ingestPrincipal(this.verifier, req, false));
    return true;
  }
}
