import 'reflect-metadata';
import { NestFactory, HttpAdapterHost } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import type { INestApplication, DynamicModule, Type } from '@nestjs/common';
import type { Logger } from 'pino';
import { METRICS_REGISTRY, PinoNestLogger } from '@agentmon/observability';
import type { Registry } from 'prom-client';
import { HttpMetricsInterceptor } from './http-metrics.interceptor.js';
import { setRpcLogger } from '@agentmon/messaging';
import { AllExceptionsFilter } from './exception.filter.js';
import { requestIdMiddleware } from './request-id.middleware.js';

export interface ServiceBootstrap {
  service: string;
  module: DynamicModule | Type;
  logger: Logger;
  port: number;
  host: string;
  natsUrl: string;
  /** answer request/reply subjects on NATS (every service but the gateway) */
  rpc: boolean;
  /** an HTTP adapter other than Express (ingest uses Fastify) */
  adapter?: Parameters<typeof NestFactory.create>[1];
  /** extra set-up before listening (body limits, CORS, sockets, OpenAPI) */
  configure?: (app: INestApplication) => void | Promise<void>;
}

/**
 * Starts a service the same way everywhere: JSON logs, request ids, the contract's error bodies,
 * NATS request/reply in a queue group named after the service, graceful shutdown on SIGTERM.
 */
export async function bootstrapService(opts: ServiceBootstrap): Promise<INestApplication> {
  setRpcLogger(opts.logger);
  process.on('unhandledRejection', (err) => opts.logger.error({ err }, 'unhandled rejection'));
  const nestLogger = new PinoNestLogger(opts.logger);
  const app = opts.adapter
    ? await NestFactory.create(opts.module, opts.adapter as never, { logger: nestLogger })
    : await NestFactory.create(opts.module, { logger: nestLogger });
  app.use(requestIdMiddleware);
  app.useGlobalFilters(new AllExceptionsFilter(app.get(HttpAdapterHost), opts.logger));
  app.enableShutdownHooks();
  const registry = metricsRegistryOf(app);
  if (registry) app.useGlobalInterceptors(new HttpMetricsInterceptor(registry));
  if (opts.configure) await opts.configure(app);
  if (opts.rpc) {
    app.connectMicroservice<MicroserviceOptions>(
      {
        transport: Transport.NATS,
        options: { servers: opts.natsUrl.split(','), queue: opts.service, name: `${opts.service}-rpc`, maxReconnectAttempts: -1 } as never,
      },
      { inheritAppConfig: false },
    );
    await app.startAllMicroservices();
  }
  await app.listen(opts.port, opts.host);
  opts.logger.info({ port: opts.port }, `${opts.service} listening`);
  return app;
}

function metricsRegistryOf(app: INestApplication): Registry | undefined {
  try {
    return app.get<Registry>(METRICS_REGISTRY, { strict: false });
  } catch {
    return undefined; // a service without the HealthModule has no registry to fill
  }
}
