import type { LoggerService } from '@nestjs/common';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { currentRequestId } from './request-context.js';

/** Keys whose values never reach a log line. */
const REDACT = [
  'password', '*.password', 'refresh_token', '*.refresh_token', 'access_token', '*.access_token',
  'secret', '*.secret', '*.*.secret', 'key', '*.key', 'authorization', '*.authorization', 'headers.authorization',
  'req.headers.authorization', 'req.headers["x-api-key"]', 'config.secret', 'config.webhook_url', 'config.smtp_url',
];

/** One JSON line per event, with service name and the request id of the current context. */
export function createLogger(service: string, level: LevelWithSilent = 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    redact: { paths: REDACT, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const requestId = currentRequestId();
      return requestId ? { request_id: requestId } : {};
    },
  });
}

/** Adapts pino to Nest's LoggerService so framework messages are JSON lines too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.write('info', message, context);
  }
  error(message: unknown, stackOrContext?: string, context?: string) {
    const ctx = context ?? stackOrContext;
    if (message instanceof Error) this.logger.error({ context: ctx, err: message }, message.message);
    else this.write('error', message, ctx, context ? stackOrContext : undefined);
  }
  warn(message: unknown, context?: string) {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string) {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string) {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string) {
    this.write('fatal', message, context);
  }
  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, context?: string, stack?: string) {
    if (typeof message === 'object' && message !== null) this.logger[level]({ context, ...message, ...(stack ? { stack } : {}) });
    else this.logger[level]({ context, ...(stack ? { stack } : {}) }, String(message));
  }
}
