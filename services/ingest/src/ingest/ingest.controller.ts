import { isUtf8 } from 'node:buffer';
import { Controller, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppError } from '@agentmon/contracts';
import { AcceptsInfluxV1Credentials, ApiKeyGuard, principalOf } from '../auth/api-key.guard.js';
import { parsePrecision } from './line-protocol.parser.js';
import { IngestService } from './ingest.service.js';
import { notUtf8 } from './utf8-body.js';

/** Agent push: JSON batches and InfluxDB line protocol (1.x and 2.x write APIs). */
@Controller()
@UseGuards(ApiKeyGuard)
export class IngestController {
  constructor(@Inject(IngestService) private readonly ingest: IngestService) {}

  @Post('api/v2/ingest')
  @HttpCode(202)
  async json(@Req() req: FastifyRequest): Promise<{ accepted: number }> {
    if (Buffer.isBuffer(req.body) || req.body === undefined) {
      throw new AppError('unsupported_media_type', 'the body must be JSON with Content-Type: application/json');
    }
    return { accepted: await this.ingest.acceptJson(req.body, bodySize(req), principalOf(req).agent_id) };
  }

  /** InfluxDB 2.x write API: `?org=&bucket=&precision=ns|us|ms|s` (org and bucket are accepted and ignored). */
  @Post('api/v2/write')
  @HttpCode(204)
  async writeV2(@Req() req: FastifyRequest): Promise<void> {
    await this.lines(req, 'v2');
  }

  /** InfluxDB 1.x write API: `?db=&precision=` (db and rp are accepted and ignored). */
  @Post('write')
  @HttpCode(204)
  @AcceptsInfluxV1Credentials()
  async writeV1(@Req() req: FastifyRequest): Promise<void> {
    await this.lines(req, 'v1');
  }

  private async lines(req: FastifyRequest, api: 'v1' | 'v2'): Promise<void> {
    const query = (req.query ?? {}) as Record<string, unknown>;
    const given = typeof query.precision === 'string' ? query.precision : undefined;
    const precision = parsePrecision(given, api);
    if (!precision) {
      const allowed = api === 'v1' ? 'n, ns, u, us, ms, s, m or h' : 'ns, us, ms or s';
      throw new AppError('bad_request', `precision must be ${allowed}`, [{ path: 'query.precision', reason: `must be ${allowed}` }]);
    }
    const body = req.body;
    // an empty write stores nothing, as InfluxDB answers it
    if (body === undefined || body === null) return;
    if (!Buffer.isBuffer(body)) throw new AppError('unsupported_media_type', 'the body must be line protocol (Content-Type: text/plain)');
    if (body.length === 0) return;
    if (!isUtf8(body)) throw notUtf8();
    await this.ingest.acceptLines(body.toString('utf8'), precision, body.length, principalOf(req).agent_id, body);
  }
}

function bodySize(req: FastifyRequest): number {
  const n = Number(req.headers['content-length']);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
