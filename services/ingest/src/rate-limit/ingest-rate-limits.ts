import { Inject, Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AppError } from '@agentmon/contracts';
import { RateLimiter, rateLimitHeaders } from '@agentmon/http-kit';
import { METRICS_REGISTRY } from '@agentmon/observability';
import { extractApiKey } from '../auth/api-key.extract.js';
import { INGEST_CONFIG, type IngestConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { INGEST_REDIS } from '../stats/ingest-stats.service.js';
import { ingestBudgets, ingestCharges, type IngestBudgets } from './ingest-budgets.js';

export const INGEST_RATE_LIMIT_PREFIX = 'agentmon:ingest:rl:';
/** Probes and Prometheus are never limited. */
const EXEMPT = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * Rate limits of the ingest port, in Redis and so shared by every replica: per API key and per
 * client address, charged in one script call when a request arrives (a Fastify onRequest hook),
 * before its body is read or its key verified, so a client over its budget costs neither memory
 * nor a question to auth. When Redis is away requests pass unchecked (logged, counted): telemetry
 * must not stop because the limiter cannot count it. Busy keys and addresses lease units ahead
 * (RATE_LIMIT_LEASE_MS): at 1,000 requests/s one Redis script call per request was the largest
 * single cost of the ingest process (docs/benchmarks.md).
 */
@Injectable()
export class IngestRateLimits {
  readonly budgets: IngestBudgets;
  private readonly limiter: RateLimiter;

  constructor(
    @Inject(INGEST_REDIS) redis: Redis,
    @Inject(INGEST_CONFIG) config: IngestConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.budgets = ingestBudgets(config);
    this.limiter = new RateLimiter({
      redis,
      keyPrefix: INGEST_RATE_LIMIT_PREFIX,
      timeoutMs: config.RATE_LIMIT_REDIS_TIMEOUT_MS,
      logger,
      registry,
      // agents push steadily: a busy key spends leased units instead of a Redis call per request
      ...(config.RATE_LIMIT_LEASE_MS > 0 ? { lease: { horizonMs: config.RATE_LIMIT_LEASE_MS } } : {}),
    });
  }

  /** Adds the hook that charges every request (but the probes) and answers 429 beyond a budget. */
  install(fastify: FastifyInstance): void {
    fastify.addHook('onRequest', async (req, reply) => {
      const q = req.url.indexOf('?');
      const path = q < 0 ? req.url : req.url.slice(0, q);
      if (EXEMPT.has(path)) return;
      const charges = ingestCharges(this.budgets, presentedKey(req, path), req.ip);
      if (charges.length === 0) return;
      const decision = await this.limiter.consume(charges, 'allow');
      const headers = rateLimitHeaders(decision);
      if (headers) reply.headers(headers);
      if (!decision.allowed) {
        const budgets = decision.outcomes.filter((o) => !o.allowed).map((o) => o.budget.name);
        throw new AppError('rate_limited', `too many requests (${budgets.join(', ')}); retry in ${decision.retryAfterSeconds} s`, undefined, decision.retryAfterSeconds);
      }
    });
  }
}

function presentedKey(req: FastifyRequest, path: string): string | undefined {
  return extractApiKey({ headers: req.headers, query: (req.query ?? {}) as Record<string, unknown>, influxV1: path === '/write' });
}
