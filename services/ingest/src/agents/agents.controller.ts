import { Controller, Get, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AgentIdSchema, AppError, HeartbeatSchema, type Agent } from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { ZBody, ZParam } from '@agentmon/http-kit';
import type { z } from 'zod';
import { ApiKeyGuard, principalOf } from '../auth/api-key.guard.js';

/**
 * What an agent asks about itself on the ingest port: heartbeats without points, and its config
 * with an ETag. Both are answered by the registry over NATS. A key bound to an agent may ask only
 * about that agent (403 otherwise); an unbound ingest key may ask about any agent of the fleet.
 */
@Controller('api/v2/agents')
@UseGuards(ApiKeyGuard)
export class AgentsController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post(':id/heartbeat')
  @HttpCode(200)
  async heartbeat(
    @ZParam('id', AgentIdSchema) id: string,
    @ZBody(HeartbeatSchema) body: z.output<typeof HeartbeatSchema>,
    @Req() req: FastifyRequest,
  ): Promise<Agent> {
    assertOwnAgent(req, id);
    return this.rpc.request('rpc.registry.agent.heartbeat.v1', { ...body, agent_id: id });
  }

  /** `{version, config}` with `ETag: "<version>"`; a matching If-None-Match answers 304 without a body. */
  @Get(':id/config')
  async config(@ZParam('id', AgentIdSchema) id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    assertOwnAgent(req, id);
    const cfg = await this.rpc.request('rpc.registry.agent.config.get.v1', { id });
    const etag = `"${cfg.version}"`;
    reply.header('ETag', etag).header('Cache-Control', 'no-cache');
    if (etagMatches(req.headers['if-none-match'], etag)) {
      await reply.code(304).send();
      return;
    }
    await reply.code(200).send({ version: cfg.version, config: cfg.config });
  }
}

/** A key bound to an agent acts for that agent only. */
function assertOwnAgent(req: FastifyRequest, id: string): void {
  const bound = principalOf(req).agent_id;
  if (bound !== undefined && bound !== id) {
    throw new AppError('forbidden', `this API key is bound to agent ${bound} and may not act for ${id}`, [
      { path: 'id', reason: `is not ${bound}, the only agent this API key may act for` },
    ]);
  }
}

/** RFC 9110 If-None-Match: `*`, or a list of (possibly weak) entity tags compared weakly. */
export function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value.trim() === '*') return true;
  return value.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
