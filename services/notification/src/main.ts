import 'reflect-metadata';
import { createLogger } from '@agentmon/observability';
import { bootstrapService } from '@agentmon/http-kit';
import { loadNotificationConfig } from './config.js';
import { AppModule } from './app.module.js';

const config = loadNotificationConfig();
const logger = createLogger('notification', config.LOG_LEVEL);
await bootstrapService({
  service: 'notification',
  module: AppModule.forRoot(config, logger),
  logger,
  port: config.PORT,
  host: config.HTTP_HOST,
  natsUrl: config.NATS_URL,
  rpc: true,
});
