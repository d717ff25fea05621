import { z } from 'zod';

/** The one error body of the public contract, also the error payload of every RPC reply. */
export const ErrorDetailSchema = z.object({ path: z.string(), reason: z.string() });
export type ErrorDetail = z.infer<typeof ErrorDetailSchema>;
export const ErrorBodySchema = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  message: z.string(),
  details: z.array(ErrorDetailSchema).optional(),
  request_id: z.string().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export const ERROR_CODES = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  bad_gateway: 502,
  unavailable: 503,
  timeout: 504,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
export function reasonPhrase(status: number): string {
  return REASON[status] ?? 'Error';
}

/**
 * A typed domain error. Services throw it; the HTTP edge and the RPC layer turn it into the
 * contract's error body, so the status code is decided once, where the error is raised.
 */
export class AppError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AppError';
    this.statusCode = ERROR_CODES[code];
  }

  toBody(requestId?: string): ErrorBody {
    return {
      statusCode: this.statusCode,
      error: reasonPhrase(this.statusCode),
      message: this.message,
      ...(this.details?.length ? { details: this.details } : {}),
      ...(requestId ? { request_id: requestId } : {}),
    };
  }

  static fromBody(body: ErrorBody): AppError {
    const code = (Object.entries(ERROR_CODES).find(([, s]) => s === body.statusCode)?.[0] ?? 'internal') as ErrorCode;
    return new AppError(code, body.message, body.details);
  }

  static notFound(what: string, id: string): AppError {
    return new AppError('not_found', `${what} ${id} not found`);
  }
}

/** Turns zod issues into the contract's `details` list. */
export function zodDetails(error: z.ZodError, prefix = ''): ErrorDetail[] {
  return error.issues.map((issue) => ({
    path: formatPath(prefix, issue.path),
    reason: issue.message,
  }));
}

function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(root)';
}

export function validationError(error: z.ZodError, prefix = '', message = 'Validation failed'): AppError {
  const details = zodDetails(error, prefix);
  const first = details[0];
  return new AppError('bad_request', first ? `${message}: ${first.path} ${first.reason}` : message, details);
}
