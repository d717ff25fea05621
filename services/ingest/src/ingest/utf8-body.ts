import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '@agentmon/contracts';

/** The 400 for a body whose bytes are not UTF-8 (they would otherwise be stored as U+FFFD). */
export function notUtf8(): AppError {
  return new AppError('bad_request', 'the body is not valid UTF-8; nothing was stored', [{ path: 'body', reason: 'is not valid UTF-8' }]);
}

type Done = (err: Error | null, body?: unknown) => void;

/**
 * Fastify's own JSON parser (prototype-poisoning checks), after a check that the bytes are UTF-8:
 * decoding would silently turn invalid sequences into U+FFFD.
 */
export function utf8JsonParser(fastify: FastifyInstance): (req: FastifyRequest, body: Buffer, done: Done) => void {
  // the default parser is the callback form (request, body, done)
  const json = fastify.getDefaultJsonParser('error', 'error') as (req: FastifyRequest, body: string, done: Done) => void;
  return (req, body, done) => {
    if (!isUtf8(body)) return done(notUtf8());
    json(req, body.toString('utf8'), done);
  };
}
