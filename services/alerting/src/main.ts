import 'reflect-metadata';
import { createLogger } from '@agentmon/observability';
import { bootstrapService } from '@agentmon/http-kit';
import { loadAlertingConfig } from './config.js';
import { AppModule } from './app.module.js';

const config = loadAlertingConfig();
const logger = createLogger('alerting', config.LOG_LEVEL);
await bootstrapService({
  service: 'alerting',
  module: AppModule.forRoot(config, logger),
  logger,
  port: config.PORT,
  host: config.HTTP_HOST,
  natsUrl: config.NATS_URL,
  rpc: true,
});
