import type { DynamicModule } from '@nestjs/common';
import type { LevelWithSilent, Logger } from 'pino';
import { natsTls, postgresConnection, serverTls } from '@agentmon/config';
import { createLogger } from '@agentmon/observability';
import { migrateOnly, type ServiceDataSourceOptions } from '@agentmon/persistence';
import { bootstrapService } from './bootstrap.js';

type DatabaseServiceConfig = Parameters<typeof natsTls>[0] &
  Parameters<typeof serverTls>[0] &
  Parameters<typeof postgresConnection>[0] & {
    LOG_LEVEL: LevelWithSilent;
    PORT: number;
    HTTP_HOST: string;
    MIGRATE_ONLY: boolean;
  };

/**
 * The whole `main.ts` of a service that owns a PostgreSQL database: with MIGRATE_ONLY=true it applies
 * the migrations and exits (the Helm hook Jobs); otherwise it starts the service. A failure to start
 * is one fatal JSON line and exit 1.
 */
export async function runDatabaseService<C extends DatabaseServiceConfig>(opts: {
  service: string;
  config: C;
  module: (config: C, logger: Logger) => DynamicModule;
  entities: ServiceDataSourceOptions['entities'];
  migrations: ServiceDataSourceOptions['migrations'];
}): Promise<void> {
  const { service, config } = opts;
  const logger = createLogger(service, config.LOG_LEVEL);
  try {
    if (config.MIGRATE_ONLY) {
      const applied = await migrateOnly({
        ...postgresConnection(config),
        entities: opts.entities,
        migrations: opts.migrations,
        applicationName: `agentmon-${service}-migrate`,
      });
      logger.info({ applied }, 'migrations applied');
      process.exit(0);
    }
    await bootstrapService({
      service,
      module: opts.module(config, logger),
      logger,
      port: config.PORT,
      host: config.HTTP_HOST,
      natsUrl: config.NATS_URL,
      natsTls: natsTls(config),
      https: serverTls(config),
      rpc: true,
    });
  } catch (err) {
    logger.fatal({ err }, `${service} failed to start: ${(err as Error).message}`);
    process.exit(1);
  }
}
