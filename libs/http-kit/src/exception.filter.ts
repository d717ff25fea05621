import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Logger } from 'pino';
import { AppError, reasonPhrase, type ErrorBody } from '@agentmon/contracts';
import { currentRequestId } from '@agentmon/observability';

/**
 * The one place an HTTP error becomes the contract's JSON body. Anything unexpected is logged with
 * the request id and answered as a plain 500 that names nothing internal.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly logger: Logger,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const { httpAdapter } = this.adapterHost;
    const ctx = host.switchToHttp();
    const res = ctx.getResponse();
    const requestId = currentRequestId();
    const { body, retryAfter } = toErrorBody(exception, requestId);
    if (body.statusCode >= 500) this.logger.error({ err: exception, request_id: requestId }, 'request failed');
    if (retryAfter !== undefined) httpAdapter.setHeader(res, 'Retry-After', String(retryAfter));
    httpAdapter.reply(res, body, body.statusCode);
  }
}

export function toErrorBody(exception: unknown, requestId?: string): { body: ErrorBody; retryAfter?: number } {
  if (exception instanceof AppError) {
    return { body: exception.toBody(requestId), retryAfter: exception.retryAfterSeconds ?? defaultRetryAfter(exception.statusCode) };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const resp = exception.getResponse();
    const message =
      typeof resp === 'string' ? resp : typeof (resp as { message?: unknown }).message === 'string' ? (resp as { message: string }).message : exception.message;
    const body: ErrorBody = { statusCode: status, error: reasonPhrase(status), message };
    const details = (resp as { details?: ErrorBody['details'] }).details;
    if (Array.isArray(details)) body.details = details;
    if (requestId) body.request_id = requestId;
    return { body, retryAfter: defaultRetryAfter(status) };
  }
  // body-parser and fastify content parser errors carry a status of their own
  const e = exception as { status?: number; statusCode?: number; type?: string; message?: string; code?: string };
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message =
      status === 413 ? 'request body is larger than the limit' : e.type === 'entity.parse.failed' || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || /JSON/.test(e.message ?? '') ? 'request body is not valid JSON' : (e.message ?? reasonPhrase(status));
    return { body: { statusCode: status, error: reasonPhrase(status), message, ...(requestId ? { request_id: requestId } : {}) } };
  }
  return { body: { statusCode: 500, error: reasonPhrase(500), message: 'internal error', ...(requestId ? { request_id: requestId } : {}) } };
}

function defaultRetryAfter(status: number): number | undefined {
  return status === 429 || status === 503 ? 5 : undefined;
}
