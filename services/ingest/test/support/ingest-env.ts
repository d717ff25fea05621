import { INTEGRATION_PORTS, TEST_INFRA } from '../../../../test/support/test-env.js';

/** The settings of an ingest service started by an integration test against the test profile, with a database of its own. */
export function ingestTestEnv(database: string, more: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: String(INTEGRATION_PORTS.ingest),
    HTTP_HOST: '127.0.0.1',
    NATS_URL: TEST_INFRA.natsUrl,
    REDIS_URL: TEST_INFRA.redisUrl,
    INFLUX_URL: TEST_INFRA.influxUrl,
    INFLUX_DATABASE: database,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    ...more,
  };
}
