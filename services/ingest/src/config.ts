/**
 * Configuration of the ingest service, parsed once at boot (a bad value stops the process with
 * exit code 78 and one line per problem).
 *
 * | variable            | default                    | meaning |
 * |---------------------|----------------------------|---------|
 * | PORT                | 8001                       | public HTTP port: agent push API, /health/*, /metrics |
 * | HTTP_HOST           | 0.0.0.0                    | address the HTTP server binds to |
 * | LOG_LEVEL           | info                       | pino level (fatal … trace, silent) |
 * | NATS_URL            | nats://127.0.0.1:4222      | NATS with JetStream, comma-separated for a cluster |
 * | REDIS_URL           | redis://127.0.0.1:6379/0   | Redis for the ingest-rate counters shared by all replicas |
 * | INFLUX_URL          | http://127.0.0.1:8086      | InfluxDB v1 HTTP API (1.x, or 2.x/3.x v1 compatibility endpoints) |
 * | INFLUX_DATABASE     | agentmon                   | database holding the raw and downsampled points |
 * | INFLUX_USERNAME     | (none)                     | InfluxDB user, sent as HTTP Basic auth when set |
 * | INFLUX_PASSWORD     | (none)                     | InfluxDB password (or 2.x token) |
 * | RAW_RETENTION       | 90d                        | how long raw points are kept (retention policy `raw`); older timestamps are refused |
 * | AGG_RETENTION       | 365d                       | how long the 1m and 1h aggregates are kept (`agg_1m`, `agg_1h`) |
 * | WRITE_BATCH_SIZE    | 5000                       | lines per InfluxDB write |
 * | WRITE_FLUSH_MS      | 500                        | longest a line waits before it is written |
 * | MAX_BODY_BYTES      | 10485760 (10 MiB)          | largest request body, after decompression (413 beyond) |
 * | MAX_POINTS          | 50000                      | most points (or lines) in one request (400 beyond) |
 * | API_KEY_CACHE_MS    | 10000                      | how long a verified API key (or a refusal) is remembered |
 * | API_KEY_CACHE_SIZE  | 10000                      | most API keys remembered at once |
 * | MAX_INFLIGHT_BYTES  | 268435456 (256 MiB)        | request bytes being published at once; beyond it the answer is 503 with Retry-After |
 * | SHUTDOWN_TIMEOUT_MS | 10000                      | grace period on SIGTERM |
 * | MIGRATE_ONLY        | false                      | apply the InfluxDB migrations, then exit (Helm hook Job) |
 */
import { baseConfigShape, env, loadConfig, z } from '@agentmon/config';

/** InfluxDB durations the service accepts for retention: hours, days or weeks (InfluxDB's minimum is 1h). */
const retention = (def: string) =>
  z
    .string()
    .regex(/^[1-9]\d*(h|d|w)$/, 'must be a duration in hours, days or weeks, like 90d')
    .default(def);

const positiveInt = (def: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().positive().max(max).default(def);

export const IngestConfigSchema = z.object({
  ...baseConfigShape,
  PORT: env.port(8001),
  REDIS_URL: env.redisUrl,
  INFLUX_URL: env.influxUrl,
  INFLUX_DATABASE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -')
    .default('agentmon'),
  // an empty value (a Secret key left blank) means "not set"
  INFLUX_USERNAME: z.string().optional().transform((v) => v || undefined),
  INFLUX_PASSWORD: z.string().optional().transform((v) => v || undefined),
  RAW_RETENTION: retention('90d'),
  AGG_RETENTION: retention('365d'),
  WRITE_BATCH_SIZE: positiveInt(5000, 100_000),
  WRITE_FLUSH_MS: env.durationMs(500),
  MAX_BODY_BYTES: positiveInt(10 * 1024 * 1024),
  MAX_POINTS: positiveInt(50_000),
  API_KEY_CACHE_MS: z.coerce.number().int().nonnegative().default(10_000),
  API_KEY_CACHE_SIZE: positiveInt(10_000),
  MAX_INFLIGHT_BYTES: positiveInt(256 * 1024 * 1024),
});
export type IngestConfig = z.output<typeof IngestConfigSchema>;
export const INGEST_CONFIG = Symbol('INGEST_CONFIG');

export function loadIngestConfig(source: NodeJS.ProcessEnv = process.env): IngestConfig {
  return loadConfig('ingest', IngestConfigSchema, source);
}

/** Milliseconds of an InfluxDB retention duration accepted by the schema above. */
export function retentionMs(d: string): number {
  const m = /^(\d+)(h|d|w)$/.exec(d);
  if (!m) throw new Error(`bad retention ${d}`);
  const unit = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }[m[2] as 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}
