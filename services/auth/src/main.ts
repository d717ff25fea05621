import 'reflect-metadata';
import { natsTls, postgresConnection, serverTls } from '@agentmon/config';
import { createLogger } from '@agentmon/observability';
import { bootstrapService } from '@agentmon/http-kit';
import { migrateOnly } from '@agentmon/persistence';
import { loadAuthConfig } from './config.js';
import { AppModule } from './app.module.js';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from './migrations/index.js';

const config = loadAuthConfig();
const logger = createLogger('auth', config.LOG_LEVEL);
try {
  if (config.MIGRATE_ONLY) {
    const applied = await migrateOnly({ ...postgresConnection(config), entities: ENTITIES, migrations: MIGRATIONS, applicationName: 'agentmon-auth-migrate' });
    logger.info({ applied }, 'migrations applied');
    process.exit(0);
  }
  await bootstrapService({
    service: 'auth',
    module: AppModule.forRoot(config, logger),
    logger,
    port: config.PORT,
    host: config.HTTP_HOST,
    natsUrl: config.NATS_URL,
    natsTls: natsTls(config),
    https: serverTls(config),
    rpc: true,
  });
} catch (err) {
  logger.fatal({ err }, `auth failed to start: ${(err as Error).message}`);
  process.exit(1);
}
