import 'reflect-metadata';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { natsTls, serverTls } from '@agentmon/config';
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
    natsTls: natsTls(config),
    https: serverTls(config),
    rpc: true,
    // X-Forwarded-For is believed from proxies on private networks only (ingress controllers), so
    // a client on the internet cannot choose the address recorded for its key
    // (Fastify takes HTTPS in its constructor, so bootstrapService hands the options to this function)
    adapter: (https) =>
      new FastifyAdapter({ bodyLimit: config.MAX_BODY_BYTES, trustProxy: 'loopback,linklocal,uniquelocal', ...(https ? { https } : {}) } as never),
    configure: (app) => configureIngestHttp(app as NestFastifyApplication, config),
  });
}
