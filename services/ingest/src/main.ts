import 'reflect-metadata';
import { influxTls } from '@agentmon/config';
import { createLogger } from '@agentmon/observability';
import { loadIngestConfig } from './config.js';
import { startIngest } from './ingest-app.js';
import { InfluxClient } from './influx/influx.client.js';
import { migrateInflux } from './influx/influx-schema.service.js';
import { INFLUX_MIGRATIONS } from './influx/migrations/index.js';

const config = loadIngestConfig();
const logger = createLogger('ingest', config.LOG_LEVEL);
try {
  if (config.MIGRATE_ONLY) {
    // the Helm pre-upgrade hook: InfluxDB database, retention policies, then exit
    const client = new InfluxClient({
      url: config.INFLUX_URL,
      database: config.INFLUX_DATABASE,
      ...(config.INFLUX_USERNAME ? { username: config.INFLUX_USERNAME } : {}),
      ...(config.INFLUX_PASSWORD ? { password: config.INFLUX_PASSWORD } : {}),
      tls: influxTls(config),
    });
    const applied = await migrateInflux(
      { client, database: config.INFLUX_DATABASE, rawRetention: config.RAW_RETENTION, aggRetention: config.AGG_RETENTION },
      INFLUX_MIGRATIONS,
      logger,
    );
    logger.info({ applied }, 'migrations applied');
    process.exit(0);
  }
  await startIngest(config, logger);
} catch (err) {
  logger.fatal({ err }, `ingest failed to start: ${(err as Error).message}`);
  process.exit(1);
}
