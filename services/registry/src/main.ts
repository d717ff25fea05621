import 'reflect-metadata';
import { createLogger } from '@agentmon/observability';
import { bootstrapService } from '@agentmon/http-kit';
import { loadRegistryConfig } from './config.js';
import { AppModule } from './app.module.js';

const config = loadRegistryConfig();
const logger = createLogger('registry', config.LOG_LEVEL);
await bootstrapService({
  service: 'registry',
  module: AppModule.forRoot(config, logger),
  logger,
  port: config.PORT,
  host: config.HTTP_HOST,
  natsUrl: config.NATS_URL,
  rpc: true,
});
