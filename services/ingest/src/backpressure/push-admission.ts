import { randomUUID } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '@agentmon/contracts';
import { currentRequestId } from '@agentmon/observability';
import type { BackpressureService } from './backpressure.service.js';

/** The routes that put telemetry into the stream. */
export const PUSH_ROUTES = new Set(['/api/v2/ingest', '/api/v2/write', '/write', '/v1/metrics']);
const MEMORY_MESSAGE = 'ingest is overloaded: too many request bodies in progress; retry shortly';

/**
 * Keeps the ingest port's memory bounded whatever the load, with two Fastify hooks:
 * - onRequest, for the push routes: while the writer or the stream is behind its limits (the
 *   cached decision of BackpressureService), the answer is 503 with Retry-After before a byte of
 *   the body is read;
 * - preParsing, for every request with a body: the body's bytes (after decompression, so this hook
 *   must come after the decompression hook) are counted against `maxBytes` over all requests in
 *   progress (a body of known size at once, one of unknown size chunk by chunk) and held until the
 *   response is sent (the body, its parsed form and the stream messages
 *   made of it live that long). A body whose Content-Length does not fit is refused before it is
 *   read; one of unknown size (chunked, compressed) is refused as soon as it would go over.
 * Refusals made here are answered directly (the contract's error body, Retry-After) and counted in
 * `agentmon_ingest_backpressure_refusals_total`, not logged one by one: under overload that log
 * would be the next thing to overflow.
 */
export function installPushAdmission(fastify: FastifyInstance, backpressure: BackpressureService, maxBytes: number): { inUse(): number } {
  let inUse = 0;

  fastify.addHook('onRequest', (req, reply, done) => {
    if (req.method !== 'POST') return done();
    const q = req.url.indexOf('?');
    if (!PUSH_ROUTES.has(q < 0 ? req.url : req.url.slice(0, q))) return done();
    const refusal = backpressure.current();
    if (!refusal) return done();
    backpressure.countRefusal(refusal.reason);
    refuse(req, reply, refusal.message, refusal.retryAfterSeconds);
  });

  fastify.addHook('preParsing', (req, reply, payload, done) => {
    if (req.method === 'GET' || req.method === 'HEAD') return done(null, payload);
    const length = Number(req.headers['content-length']);
    const encoded = req.headers['content-encoding'] !== undefined && req.headers['content-encoding'] !== 'identity';
    if (!encoded && length > 0 && inUse > 0 && inUse + length > maxBytes) {
      backpressure.countRefusal('memory');
      req.raw.resume(); // drain the body we do not read, so the connection can be reused
      refuse(req, reply, MEMORY_MESSAGE, 1);
      return;
    }
    // a body of known size is reserved whole at once, so that bodies arriving together see each other
    const known = !encoded && length > 0;
    let held = known ? length : 0;
    if (known) inUse += length;
    reply.raw.once('close', () => {
      inUse -= held;
      held = 0;
    });
    // a body of known size never brings more than it said (the HTTP parser ends it there, and Fastify
    // refuses one that brings less): nothing to count chunk by chunk, no stream in between
    if (known) return done(null, payload);
    // a body of unknown size (chunked, or decompressed while it is read): counted chunk by chunk
    const counter = new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
        if (chunk.length > 0) {
          if (inUse > held && inUse + chunk.length > maxBytes) {
            backpressure.countRefusal('memory');
            cb(new AppError('unavailable', MEMORY_MESSAGE, undefined, 1));
            return;
          }
          inUse += chunk.length;
          held += chunk.length;
        }
        cb(null, chunk);
      },
    });
    // Fastify compares Content-Length with the bytes received on the wire: report those, not ours
    let received = 0;
    payload.on('data', (c: Buffer) => (received += c.length));
    Object.defineProperty(counter, 'receivedEncodedLength', {
      get: () => (payload as unknown as { receivedEncodedLength?: number }).receivedEncodedLength ?? received,
    });
    payload.on('error', (err) => counter.destroy(err));
    payload.pipe(counter);
    done(null, counter);
  });

  return { inUse: () => inUse };
}

function refuse(req: FastifyRequest, reply: FastifyReply, message: string, retryAfterSeconds: number): void {
  const given = reply.getHeader('x-request-id') ?? req.headers['x-request-id'];
  const requestId = currentRequestId() ?? (typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID());
  void reply
    .code(503)
    .header('retry-after', String(retryAfterSeconds))
    .header('x-request-id', requestId)
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify(new AppError('unavailable', message).toBody(requestId)));
}
