import { createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { AppError } from '@agentmon/contracts';
import type { IngestConfig } from './config.js';
import { BackpressureService } from './backpressure/backpressure.service.js';
import { installPushAdmission } from './backpressure/push-admission.js';
import { IngestRateLimits } from './rate-limit/ingest-rate-limits.js';
import { utf8JsonParser } from './ingest/utf8-body.js';
import { installOtlpErrorEncoding } from './otlp/otlp-errors.js';
import { PushRoutes } from './ingest/push-routes.js';

/**
 * Fastify specifics of the ingest port (the push routes themselves: PushRoutes):
 * - JSON bodies with Fastify's parser (prototype-poisoning checks) after a UTF-8 check, up to MAX_BODY_BYTES;
 * - every other body (line protocol as text/plain, octet-stream, form-encoded from `curl
 *   --data-binary`, or no Content-Type) as a raw Buffer, up to the same limit;
 * - `Content-Encoding: gzip|deflate` (Telegraf compresses by default) decompressed while reading,
 *   with the limit applied to the decompressed size, so a small zip bomb is still a 413.
 * Bodies over the limit become the contract's JSON 413 through the global exception filter.
 */
export function configureIngestHttp(app: NestFastifyApplication, config: IngestConfig): void {
  const bodyLimit = config.MAX_BODY_BYTES;
  const raw = (_req: unknown, body: Buffer, done: (err: Error | null, body?: unknown) => void) => done(null, body);
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  app.useBodyParser('application/json', { bodyLimit }, utf8JsonParser(fastify));
  app.useBodyParser('text/plain', { bodyLimit }, raw);
  app.useBodyParser('*', { bodyLimit }, raw);
  addDecompression(app.getHttpAdapter().getInstance() as FastifyInstance);
  // after decompression: counts the bytes a body takes in memory
  installPushAdmission(app.getHttpAdapter().getInstance() as FastifyInstance, app.get(BackpressureService), config.MAX_INFLIGHT_BYTES);
  // per-key and per-address budgets (Redis), charged before the body is read: 429 with Retry-After beyond
  app.get(IngestRateLimits).install(fastify);
  // errors of /v1/metrics as google.rpc.Status, as OTLP/HTTP asks
  installOtlpErrorEncoding(fastify);
  // the push routes, straight on Fastify (PushRoutes says why)
  app.get(PushRoutes).install(fastify);
}

function addDecompression(fastify: FastifyInstance): void {
  fastify.addHook('preParsing', (req, _reply, payload, done) => {
    const header = req.headers['content-encoding'];
    const encoding = (Array.isArray(header) ? header[0] : header)?.trim().toLowerCase();
    if (!encoding || encoding === 'identity') return done(null, payload);
    let inflater: Transform;
    if (encoding === 'gzip' || encoding === 'x-gzip') inflater = createGunzip();
    else if (encoding === 'deflate') inflater = createInflate();
    else return done(new AppError('unsupported_media_type', `Content-Encoding ${encoding} is not supported (gzip, deflate or identity)`));
    // Fastify compares Content-Length with the bytes received: count the compressed ones.
    const counted = inflater as Transform & { receivedEncodedLength: number };
    counted.receivedEncodedLength = 0;
    payload.on('data', (chunk: Buffer) => (counted.receivedEncodedLength += chunk.length));
    payload.on('error', (err) => inflater.destroy(err));
    inflater.on('error', (err) => {
      (err as Error & { statusCode?: number }).statusCode = 400;
      err.message = `request body is not valid ${encoding} data`;
    });
    payload.pipe(inflater);
    done(null, counted);
  });
}
