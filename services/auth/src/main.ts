import 'reflect-metadata';
import { createLogger } from '@agentmon/observability';
import { bootstrapService } from '@agentmon/http-kit';
import { loadAuthConfig } from './config.js';
import { AppModule } from './app.module.js';

const config = loadAuthConfig();
const logger = createLogger('auth', config.LOG_LEVEL);
try {
  await bootstrapService({
    service: 'auth',
    module: AppModule.forRoot(config, logger),
    logger,
    port: config.PORT,
    host: config.HTTP_HOST,
    natsUrl: config.NATS_URL,
    rpc: true,
  });
} catch (err) {
  logger.fatal({ err }, `auth failed to start: ${(err as Error).message}`);
  process.exit(1);
}
