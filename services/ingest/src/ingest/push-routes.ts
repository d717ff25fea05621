import { isUtf8 } from 'node:buffer';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '@agentmon/contracts';
import { ApiKeyVerifier } from '../auth/api-key.verifier.js';
import { ingestPrincipal } from '../auth/api-key.guard.js';
import { decodeMetricsRequest, metricsResponseBytes } from '../otlp/otlp-protobuf.js';
import { OTLP_METRICS_PATH, otlpEncoding } from '../otlp/otlp-errors.js';
import { parsePrecision } from './line-protocol.parser.js';
import { IngestService } from './ingest.service.js';
import { notUtf8 } from './utf8-body.js';

/**
 * The push routes of the ingest port, where agents send telemetry:
 * - `POST /api/v2/ingest`: JSON batches (202 `{accepted}`);
 * - `POST /api/v2/write` and `POST /write`: InfluxDB line protocol, the 2.x and 1.x write APIs (204);
 * - `POST /v1/metrics`: OTLP/HTTP metrics in protobuf or JSON (200 with an ExportMetricsServiceResponse).
 *
 * They are Fastify routes, not Nest controllers. Nest's router wraps each request in an execution
 * context, a guard and interceptor chain and its own reply handling. At 1,000 small requests/s that
 * was about a fifth of ingest's CPU per request on the eighth machine of docs/benchmarks.md (item 36).
 * Everything else a request meets is the same for these routes as for Nest's: Fastify's hooks (request
 * id, security headers, rate limits, push admission, decompression, HTTP metrics), the body parsers, and
 * errors rendered by the global exception filter, which Nest installs as Fastify's error handler.
 *
 * Each route authenticates first: an API key with `ingest:write` (ingestPrincipal), and on `/write`
 * also the credentials of InfluxDB 1.x clients. There is no route here without it.
 */
@Injectable()
export class PushRoutes {
  constructor(
    @Inject(IngestService) private readonly ingest: IngestService,
    @Inject(ApiKeyVerifier) private readonly verifier: ApiKeyVerifier,
  ) {}

  install(fastify: FastifyInstance): void {
    fastify.post('/api/v2/ingest', (req, reply) => this.json(req, reply));
    /** InfluxDB 2.x write API: `?org=&bucket=&precision=ns|us|ms|s` (org and bucket are accepted and ignored). */
    fastify.post('/api/v2/write', (req, reply) => this.lines(req, reply, 'v2'));
    /** InfluxDB 1.x write API: `?db=&precision=` (db and rp are accepted and ignored). */
    fastify.post('/write', (req, reply) => this.lines(req, reply, 'v1'));
    fastify.post(OTLP_METRICS_PATH, (req, reply) => this.otlp(req, reply));
  }

  private async json(req: FastifyRequest, reply: FastifyReply): Promise<{ accepted: number }> {
    const principal = await ingestPrincipal(this.verifier, req, false);
    if (Buffer.isBuffer(req.body) || req.body === undefined) {
      throw new AppError('unsupported_media_type', 'the body must be JSON with Content-Type: application/json');
    }
    const accepted = await this.ingest.acceptJson(req.body, bodySize(req), principal.agent_id);
    void reply.code(202);
    return { accepted };
  }

  private async lines(req: FastifyRequest, reply: FastifyReply, api: 'v1' | 'v2'): Promise<FastifyReply> {
    const principal = await ingestPrincipal(this.verifier, req, api === 'v1');
    const query = (req.query ?? {}) as Record<string, unknown>;
    const given = typeof query.precision === 'string' ? query.precision : undefined;
    const precision = parsePrecision(given, api);
    if (!precision) {
      const allowed = api === 'v1' ? 'n, ns, u, us, ms, s, m or h' : 'ns, us, ms or s';
      throw new AppError('bad_request', `precision must be ${allowed}`, [{ path: 'query.precision', reason: `must be ${allowed}` }]);
    }
    const body = req.body;
    // an empty write stores nothing, as InfluxDB answers it
    if (body !== undefined && body !== null) {
      if (!Buffer.isBuffer(body)) throw new AppError('unsupported_media_type', 'the body must be line protocol (Content-Type: text/plain)');
      if (body.length > 0) {
        if (!isUtf8(body)) throw notUtf8();
        await this.ingest.acceptLines(body, precision, principal.agent_id);
      }
    }
    return reply.code(204).send();
  }

  /**
   * Success is `200` with an ExportMetricsServiceResponse in the request's encoding; errors become a
   * google.rpc.Status in the request's encoding (otlp-errors.ts).
   */
  private async otlp(req: FastifyRequest, reply: FastifyReply): Promise<Buffer | Record<string, never>> {
    const principal = await ingestPrincipal(this.verifier, req, false);
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
      await this.ingest.acceptOtlp(request, body.length, principal.agent_id);
      void reply.code(200).header('content-type', 'application/x-protobuf');
      return metricsResponseBytes();
    }
    if (encoding === 'json') {
      if (Buffer.isBuffer(req.body) || req.body === undefined) throw new AppError('bad_request', 'the body must be an ExportMetricsServiceRequest in JSON', [{ path: 'body', reason: 'is empty' }]);
      await this.ingest.acceptOtlp(req.body, bodySize(req), principal.agent_id);
      void reply.code(200).header('content-type', 'application/json');
      return {};
    }
    throw new AppError('unsupported_media_type', 'OTLP/HTTP takes Content-Type: application/x-protobuf or application/json');
  }
}

function bodySize(req: FastifyRequest): number {
  const n = Number(req.headers['content-length']);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
