import 'reflect-metadata';
import { NestFactory, HttpAdapterHost } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import type { INestApplication, DynamicModule, Type } from '@nestjs/common';
import type { Logger } from 'pino';
import { METRICS_REGISTRY, PinoNestLogger, httpMetrics } from '@agentmon/observability';
import type { Registry } from 'prom-client';
import { HttpMetricsInterceptor } from './http-metrics.interceptor.js';
import { natsConnectionOptions, setRpcLogger, type NatsTlsOptions } from '@agentmon/messaging';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as TlsServer } from 'node:tls';
import { httpsServerOptions, reloadCertificatesOnChange, type HttpsServerTls } from './https.js';
import { AllExceptionsFilter } from './exception.filter.js';
import { requestIdMiddleware, securityHeadersMiddleware } from './request-id.middleware.js';

export interface ServiceBootstrap {
  service: string;
  module: DynamicModule | Type;
  logger: Logger;
  port: number;
  host: string;
  natsUrl: string;
  /** answer request/reply subjects on NATS (every service but the gateway) */
  rpc: boolean;
  /**
   * an HTTP adapter other than Express (ingest uses Fastify); a function receives the HTTPS options
   * to build it with (Fastify takes them in its constructor), undefined for plain HTTP
   */
  adapter?: HttpAdapter | ((https: { cert: string; key: string } | undefined) => HttpAdapter);
  /** extra set-up before listening (body limits, CORS, sockets, OpenAPI) */
  configure?: (app: INestApplication) => void | Promise<void>;
  /** serve HTTPS only, with this certificate and key (serverTls(config) of @agentmon/config) */
  https?: HttpsServerTls;
  /** how often the certificate files are checked for a renewal (default 60 s) */
  certificateReloadMs?: number;
  /** TLS to NATS for the request/reply transport (natsTls(config) of @agentmon/config) */
  natsTls?: NatsTlsOptions;
}

type HttpAdapter = Parameters<typeof NestFactory.create>[1];

/**
 * Starts a service the same way everywhere: JSON logs, request ids, the contract's error bodies,
 * NATS request/reply in a queue group named after the service, graceful shutdown on SIGTERM.
 */
export async function bootstrapService(opts: ServiceBootstrap): Promise<INestApplication> {
  setRpcLogger(opts.logger);
  process.on('unhandledRejection', (err) => opts.logger.error({ err }, 'unhandled rejection'));
  const nestLogger = new PinoNestLogger(opts.logger);
  const httpsOptions = opts.https ? httpsServerOptions(opts.https) : undefined;
  const adapter = typeof opts.adapter === 'function' ? opts.adapter(httpsOptions) : opts.adapter;
  if (adapter && httpsOptions && typeof opts.adapter !== 'function') {
    throw new Error(`${opts.service}: HTTPS with a custom adapter needs the adapter as a function of the HTTPS options`);
  }
  const app = adapter
    ? await NestFactory.create(opts.module, adapter as never, { logger: nestLogger })
    : await NestFactory.create(opts.module, { logger: nestLogger, ...(httpsOptions ? { httpsOptions } : {}) });
  installRequestBasics(app);
  app.useGlobalFilters(new AllExceptionsFilter(app.get(HttpAdapterHost), opts.logger));
  app.enableShutdownHooks();
  const registry = metricsRegistryOf(app);
  if (registry) installHttpMetrics(app, registry);
  if (opts.configure) await opts.configure(app);
  if (opts.rpc) {
    app.connectMicroservice<MicroserviceOptions>(
      {
        transport: Transport.NATS,
        options: { ...natsConnectionOptions(opts.natsUrl, opts.natsTls), queue: opts.service, name: `${opts.service}-rpc`, maxReconnectAttempts: -1 } as never,
      },
      { inheritAppConfig: false },
    );
    await app.startAllMicroservices();
  }
  await app.listen(opts.port, opts.host);
  if (opts.https) {
    const server = app.getHttpServer() as TlsServer;
    if (typeof server.setSecureContext !== 'function') throw new Error(`${opts.service}: the HTTP adapter did not start an HTTPS server`);
    const stop = reloadCertificatesOnChange(server, opts.https, opts.logger, opts.certificateReloadMs);
    server.once('close', stop);
  }
  opts.logger.info({ port: opts.port, tls: Boolean(opts.https) }, `${opts.service} listening${opts.https ? ' (HTTPS)' : ''}`);
  return app;
}

/**
 * The request id (and its async context, for the logs) and the security headers on every response.
 * On Fastify as its first onRequest hook: through Nest's `app.use` every request would also run
 * @fastify/middie's engine; elsewhere (Express) as middleware.
 */
function installRequestBasics(app: INestApplication): void {
  const adapter = app.getHttpAdapter();
  if (adapter.getType() !== 'fastify') {
    app.use(requestIdMiddleware);
    app.use(securityHeadersMiddleware);
    return;
  }
  const fastify = adapter.getInstance() as {
    addHook(name: 'onRequest', hook: (req: { raw: IncomingMessage }, reply: { raw: ServerResponse }, done: () => void) => void): void;
  };
  fastify.addHook('onRequest', (req, reply, done) => requestIdMiddleware(req.raw, reply.raw, () => securityHeadersMiddleware(req.raw, reply.raw, done)));
}

/**
 * HTTP request counts and durations by route template. On Fastify (ingest, the hot path) from its
 * onResponse hook: a Nest interceptor wraps every request in RxJS observables and async scopes, 4–5 %
 * of ingest's CPU at 1,000 requests/s (docs/benchmarks.md), and never sees requests refused before
 * routing (rate limits, 404), which the hook counts too. Elsewhere (Express) the interceptor.
 */
function installHttpMetrics(app: INestApplication, registry: Registry): void {
  const adapter = app.getHttpAdapter();
  if (adapter.getType() !== 'fastify') {
    app.useGlobalInterceptors(new HttpMetricsInterceptor(registry));
    return;
  }
  const metrics = httpMetrics(registry);
  const fastify = adapter.getInstance() as {
    addHook(name: 'onResponse', hook: (req: { method: string; routeOptions?: { url?: string } }, reply: { statusCode: number; elapsedTime: number }, done: () => void) => void): void;
  };
  fastify.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions?.url ?? 'unmatched';
    metrics.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    metrics.duration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    done();
  });
}

function metricsRegistryOf(app: INestApplication): Registry | undefined {
  try {
    return app.get<Registry>(METRICS_REGISTRY, { strict: false });
  } catch {
    return undefined; // a service without the HealthModule has no registry to fill
  }
}
