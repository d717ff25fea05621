import 'reflect-metadata';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { bootstrapService } from '@agentmon/http-kit';
import { AppModule } from './app.module.js';
import type { IngestConfig } from './config.js';
import { configureIngestHttp } from './http-setup.js';

/** Starts the ingest service: Fastify (the hot path), NATS request/reply, graceful shutdown. */
export async function startIngest(config: IngestConfig, logger: Logger): Promise<INestApplication> {
  return bootstrapService({
    service: 'ingest',
    module: AppModule.forRoot(config, logger),
    logger,
    port: config.PORT,
    host: config.HTTP_HOST,
    natsUrl: config.NATS_URL,
    rpc: true,
    // X-Forwarded-For is believed from proxies on private networks only (ingress controllers), so
    // a client on the internet cannot choose the address recorded for its key
    adapter: new FastifyAdapter({ bodyLimit: config.MAX_BODY_BYTES, trustProxy: 'loopback,linklocal,uniquelocal' }),
    configure: (app) => configureIngestHttp(app as NestFastifyApplication, config),
  });
}
