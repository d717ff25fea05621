/**
 * Where tests find the real infrastructure. `npm test` starts the "test" profile of
 * scripts/lib/infra.mjs: its own NATS (14222), Redis (16379) and InfluxDB (18086), and databases
 * named agentmon_test_* on the local PostgreSQL, so tests never touch what `npm start` runs.
 * AGENTMON_TEST_PORT_OFFSET (a multiple of 10) shifts all of it, for a second run on one machine.
 */
const OFFSET = Number(process.env.AGENTMON_TEST_PORT_OFFSET ?? 0);
const TAG = OFFSET ? String(OFFSET) : '';

export const TEST_INFRA = {
  natsUrl: process.env.AGENTMON_TEST_NATS_URL ?? `nats://127.0.0.1:${14222 + OFFSET}`,
  redisUrl: process.env.AGENTMON_TEST_REDIS_URL ?? `redis://127.0.0.1:${16379 + OFFSET}/0`,
  influxUrl: process.env.AGENTMON_TEST_INFLUX_URL ?? `http://127.0.0.1:${18086 + OFFSET}`,
  postgresUrl: (database: string) =>
    `${process.env.AGENTMON_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432'}/agentmon_test${TAG}_${database}`,
};

/**
 * Ports for services started inside an integration test (in-process). The end-to-end stack uses
 * 18000-18005 (+ offset) and the dashboard 13000; integration tests use 191xx (+ offset), a range
 * no other profile's stack reaches, so runs side by side never meet.
 */
export const INTEGRATION_PORTS = {
  gateway: 19100 + OFFSET,
  ingest: 19101 + OFFSET,
  auth: 19102 + OFFSET,
  registry: 19103 + OFFSET,
  alerting: 19104 + OFFSET,
  notification: 19105 + OFFSET,
} as const;
