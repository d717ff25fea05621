import 'reflect-metadata';
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
  rpc: false,
  configure: (app) => configureHttp(app, config),
});
