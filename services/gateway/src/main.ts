import 'reflect-metadata';
import { natsTls, serverTls } from '@agentmon/config';
import { createLogger } from '@agentmon/observability';
import { bootstrapService } from '@agentmon/http-kit';
import { loadGatewayConfig } from './config.js';
import { AppModule } from './app.module.js';
import { configureHttp } from './http/configure-http.js';

const config = loadGatewayConfig();
const logger = createLogger('gateway', config.LOG_LEVEL);
await bootstrapService({
  service: 'gateway',
  module: AppModule.forRoot(config, logger),
  logger,
  port: config.PORT,
  host: config.HTTP_HOST,
  natsUrl: config.NATS_URL,
  natsTls: natsTls(config),
  // socket.io rides on this server, so it speaks wss:// whenever the port speaks HTTPS
  https: serverTls(config),
  rpc: false,
  configure: (app) => configureHttp(app, config),
});
