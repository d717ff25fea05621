import { Controller, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '@agentmon/contracts';
import { ApiKeyGuard, principalOf } from '../auth/api-key.guard.js';
import { IngestService } from '../ingest/ingest.service.js';
import { decodeMetricsRequest, metricsResponseBytes } from './otlp-protobuf.js';
import { otlpEncoding } from './otlp-errors.js';

/**
 * OTLP/HTTP metrics (`POST /v1/metrics`), binary protobuf or JSON. Success is `200` with an
 * ExportMetricsServiceResponse in the request's encoding; errors become a google.rpc.Status in the
 * request's encoding (see otlp-errors.ts).
 */
@Controller()
@UseGuards(ApiKeyGuard)
export class OtlpController {
  constructor(@Inject(IngestService) private readonly ingest: IngestService) {}

  @Post('v1/metrics')
  @HttpCode(200)
  async metrics(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<Buffer | Record<string, never>> {
    const encoding = otlpEncoding(req.headers['content-type']);
    if (encoding === 'protobuf') {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let request: Record<string, unknown>;
      try {
        request = decodeMetricsRequest(body);
      } catch (err) {
        const why = err instanceof RangeError && /call stack/i.test(err.message) ? 'nests too deeply' : (err as Error).message;
        throw new AppError('bad_request', `the body is not an ExportMetricsServiceRequest: ${why}`, [{ path: 'body', reason: `is not a protobuf ExportMetricsServiceRequest (${why})` }]);
      }
      await this.ingest.acceptOtlp(request, body.length, principalOf(req).agent_id);
      void reply.header('content-type', 'application/x-protobuf');
      return metricsResponseBytes();
    }
    if (encoding === 'json') {
      if (Buffer.isBuffer(req.body) || req.body === undefined) throw new AppError('bad_request', 'the body must be an ExportMetricsServiceRequest in JSON', [{ path: 'body', reason: 'is empty' }]);
      await this.ingest.acceptOtlp(req.body, bodySize(req), principalOf(req).agent_id);
      void reply.header('content-type', 'application/json');
      return {};
    }
    throw new AppError('unsupported_media_type', 'OTLP/HTTP takes Content-Type: application/x-protobuf or application/json');
  }
}

function bodySize(req: FastifyRequest): number {
  const n = Number(req.headers['content-length']);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
