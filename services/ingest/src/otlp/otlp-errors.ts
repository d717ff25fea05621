import type { FastifyInstance } from 'fastify';
import type { ErrorBody } from '@agentmon/contracts';
import { encodeStatus, statusJson, type RpcStatus } from './otlp-protobuf.js';

export const OTLP_METRICS_PATH = '/v1/metrics';

/** The encoding an OTLP request declares, by its Content-Type. */
export function otlpEncoding(contentType: string | string[] | undefined): 'protobuf' | 'json' | null {
  const raw = Array.isArray(contentType) ? contentType[0] : contentType;
  const type = raw?.split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return null;
}

/** gRPC status codes for the HTTP statuses the ingest port answers (OTLP only records them). */
const GRPC_CODE: Record<number, number> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 5, // NOT_FOUND
  413: 8, // RESOURCE_EXHAUSTED
  415: 3, // INVALID_ARGUMENT
  429: 8, // RESOURCE_EXHAUSTED
  500: 13, // INTERNAL
  502: 14, // UNAVAILABLE
  503: 14, // UNAVAILABLE
  504: 4, // DEADLINE_EXCEEDED
};

/**
 * OTLP/HTTP wants every 4xx/5xx body to be a google.rpc.Status in the request's encoding
 * (protobuf or JSON), where the rest of the ingest port answers the contract's JSON error body.
 * Every error of `/v1/metrics` still starts as that JSON body (from the guard, a body limit, the
 * decompression, the accept path or an overload check); this hook turns it into a Status carrying
 * the same message, each `details` entry as a BadRequest field violation and the request id as
 * RequestInfo. Status codes and headers (Retry-After) are left alone. A request in neither OTLP
 * encoding (a 415) keeps the JSON body.
 */
export function installOtlpErrorEncoding(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (req, reply, payload, done) => {
    if (reply.statusCode < 400 || req.method !== 'POST') return done(null, payload);
    const q = req.url.indexOf('?');
    if ((q < 0 ? req.url : req.url.slice(0, q)) !== OTLP_METRICS_PATH) return done(null, payload);
    const encoding = otlpEncoding(req.headers['content-type']);
    if (encoding === null || typeof payload !== 'string') return done(null, payload);
    let body: Partial<ErrorBody>;
    try {
      body = JSON.parse(payload) as Partial<ErrorBody>;
    } catch {
      return done(null, payload);
    }
    const status: RpcStatus = {
      code: GRPC_CODE[reply.statusCode] ?? 2, // UNKNOWN
      message: typeof body.message === 'string' ? body.message : 'request failed',
      violations: (Array.isArray(body.details) ? body.details : []).map((d) => ({ field: d.path, description: d.reason })),
      ...(typeof body.request_id === 'string' ? { requestId: body.request_id } : {}),
    };
    if (encoding === 'protobuf') {
      void reply.header('content-type', 'application/x-protobuf');
      return done(null, encodeStatus(status));
    }
    void reply.header('content-type', 'application/json; charset=utf-8');
    return done(null, JSON.stringify(statusJson(status)));
  });
}
