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
 * | REDIS_URL           | redis://127.0.0.1:6379/0   | Redis for the rate limits and the ingest-rate counters shared by all replicas |
 * | INFLUX_URL          | http://127.0.0.1:8086      | InfluxDB v1 HTTP API (1.x, or 2.x/3.x v1 compatibility endpoints) |
 * | INFLUX_DATABASE     | agentmon                   | database holding the raw and downsampled points |
 * | INFLUX_USERNAME     | (none)                     | InfluxDB user, sent as HTTP Basic auth when set |
 * | INFLUX_PASSWORD     | (none)                     | InfluxDB password (or 2.x token) |
 * | RAW_RETENTION       | 90d                        | how long raw points are kept (retention policy `raw`); older timestamps are refused |
 * | AGG_RETENTION       | 365d                       | how long the 1m and 1h aggregates are kept (`agg_1m`, `agg_1h`) |
 * | WRITE_BATCH_SIZE    | 20000                      | lines per InfluxDB write: whole stream messages are written once they hold this many (so up to one message more); InfluxDB spends less per point on larger writes (docs/benchmarks.md, item 25) |
 * | WRITE_FLUSH_MS      | 500                        | longest a line waits before it is written |
 * | WRITE_CONCURRENCY   | 4                          | InfluxDB writes of one replica in flight at once (a full buffer waits for one of them) |
 * | AGENT_ANNOUNCE_INTERVAL_MS | 1000                | an agent this replica named in an agents message (registration and heartbeat for the registry) less than this long ago, saying the same about itself, is not named again; one it named longer ago (in the last 10 min) is a heartbeat, sent within this long in an agents message of its own with the others of that time, not with its batch; last_seen lags by at most this much; 0 = every batch names its agents; at most 10000 (the registry writes last_seen every 15 s by default) |
 * | STREAM_COMPRESS_MIN_BYTES | 65536 (64 KiB)       | a message of lines at least this large travels Brotli-compressed (`evt.ingest.telemetry.lines.br.v1`): NATS then stores and delivers about a seventh of the bytes (docs/benchmarks.md, item 32); 0 = never |
 * | WRITER_OWN_LINES_BYTES | 67108864 (64 MiB)   | plain lines of the compressed messages this replica stored, kept (oldest out first) until its own writer takes them, so that it need not decompress what it compressed a moment before (docs/benchmarks.md, item 34); memory on top of MAX_INFLIGHT_BYTES; 0 = off |
 * | PUBLISH_LINGER_MS   | 5                          | under load, how long a group of small requests gathers before it is stored as one stream message: after the publish it waited for, or since the last publish of its format began (at most one publish of a format begins in any such time; a request with none in that time waits for nothing); 0 = off |
 * | MAX_BODY_BYTES      | 10485760 (10 MiB)          | largest request body, after decompression (413 beyond) |
 * | MAX_POINTS          | 50000                      | most points (or lines) in one request (400 beyond) |
 * | API_KEY_CACHE_MS    | 10000                      | how long a verified API key (or a refusal) is remembered; a key in use is verified again in the background after three quarters of it |
 * | API_KEY_CACHE_SIZE  | 10000                      | most API keys remembered at once |
 * | MAX_INFLIGHT_BYTES  | 268435456 (256 MiB)        | request body bytes held at once (read, parsed or being published), over all requests; beyond it 503 with Retry-After |
 * | WRITER_ACK_WAIT_MS  | 60000                      | how long stream messages fetched by a writer that died wait before another replica writes them |
 * | BACKPRESSURE_MAX_BACKLOG | 100000                | stream messages waiting for the InfluxDB writer (num_pending + num_ack_pending); beyond it pushes get 503 |
 * | BACKPRESSURE_MAX_STREAM_FILL | 0.8               | fraction of the TELEMETRY stream's max_bytes in use beyond which pushes get 503 (JetStream refuses new messages at 1.0) |
 * | BACKPRESSURE_MAX_LAG_MS | 21600000 (6 h)         | age of the oldest message the writer has not written (InfluxDB down for long); beyond it pushes get 503, long before the stream's 24 h max age would drop it |
 * | BACKPRESSURE_REFRESH_MS | 250                    | how often the writer's backlog and the stream's fill are read from JetStream (cached in between, never per request) |
 * | BACKPRESSURE_RETRY_AFTER_S | 5                   | Retry-After of a 503 for backpressure |
 * | INGEST_RATE_WINDOW_S | 60                        | window of the ingest budgets (seconds); GCRA in Redis, shared by all replicas, refilling one unit every window/limit |
 * | INGEST_MAX_PER_KEY  | 6000                       | requests per API key per window on every ingest route (then 429 with Retry-After, before the body is read); 0 = no per-key limit |
 * | INGEST_MAX_PER_IP   | 12000                      | requests per client address (IPv6: per /64) per window, with or without a valid key; 0 = none |
 * | RATE_LIMIT_REDIS_TIMEOUT_MS | 250                | longest wait for Redis on a rate-limit check; beyond it (or Redis down) requests pass unchecked (logged, counted in /metrics) |
 * | RATE_LIMIT_LEASE_MS | 250                        | a busy key or address takes this many ms of its recent traffic from its budget at once and spends it in this replica, so it costs Redis a few calls a second, not one per request (never more than the budget; unspent units are dropped after 1 s); 0 = one Redis call per request |
 * | DOWNSAMPLE_1M_EVERY_MS | 300000 (5 min)      | how often the 1-minute aggregates (`agg_1m`) are computed; each run covers the minutes since one period before the previous run began, so a minute appears 1–6 minutes after it ends and points up to ~5 minutes late are counted; a multiple of a minute |
 * | DOWNSAMPLE_1H_EVERY_MS | 1800000 (30 min)    | how often the 1-hour aggregates (`agg_1h`) are computed (the current hour included, so it appears partly at :30); each run also computes the hour before again; a multiple of a minute |
 * | DOWNSAMPLE_AGENTS_PER_QUERY | 50             | agents per downsampling query: InfluxDB's cost is per series, so a run is many small queries instead of one that takes every core for seconds |
 * | DOWNSAMPLE_PAUSE_RATIO | 2                   | after each downsampling query, a pause this many times as long as the query took (0 = none), leaving InfluxDB CPU for writes and dashboards |
 * | DOWNSAMPLE_CATCH_UP_MS | 86400000 (24 h)     | how far back a run reaches after downsampling stopped (ingest or InfluxDB down) |
 * | DOWNSAMPLE_THREAD   | true                       | read, aggregate and write each downsampling group in a worker thread, so that it never holds the event loop that answers pushes; false = on that loop |
 * | SHUTDOWN_TIMEOUT_MS | 10000                      | grace period on SIGTERM |
 * | MIGRATE_ONLY        | false                      | apply the InfluxDB migrations, then exit (Helm hook Job) |
 * | TLS_CERT_FILE, TLS_KEY_FILE | (none)             | PEM certificate and key: the port serves HTTPS only (renewed files are picked up) |
 * | NATS_TLS_CA_FILE    | (system CAs)               | CA of the NATS servers; any NATS_TLS_* or tls:// in NATS_URL requires TLS |
 * | NATS_TLS_CERT_FILE, NATS_TLS_KEY_FILE | (none)   | client certificate for NATS servers that verify clients |
 * | REDIS_CA_FILE       | (system CAs)               | CA of Redis, for a rediss:// REDIS_URL |
 * | REDIS_CERT_FILE, REDIS_KEY_FILE | (none)         | client certificate for Redis (tls-auth-clients) |
 * | INFLUX_CA_FILE      | (system CAs)               | CA of InfluxDB, for an https:// INFLUX_URL |
 * | INFLUX_CERT_FILE, INFLUX_KEY_FILE | (none)       | client certificate for InfluxDB |
 *
 * The *_FILE variables are paths of PEM files, read and checked at boot (@agentmon/config, tls.ts).
 */
import { baseConfigShape, env, influxTlsShape, loadConfig, redisTlsShape, z } from '@agentmon/config';

/** InfluxDB durations the service accepts for retention: hours, days or weeks (InfluxDB's minimum is 1h). */
const retention = (def: string) =>
  z
    .string()
    .regex(/^[1-9]\d*(h|d|w)$/, 'must be a duration in hours, days or weeks, like 90d')
    .default(def);

const wholeMinutes = (def: number) =>
  z.coerce
    .number()
    .int()
    .positive()
    .refine((ms) => ms % 60_000 === 0, 'must be a whole number of minutes in ms (60000, 300000, …)')
    .default(def);

const positiveInt = (def: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().positive().max(max).default(def);

export const IngestConfigSchema = z.object({
  ...baseConfigShape,
  PORT: env.port(8001),
  REDIS_URL: env.redisUrl,
  ...redisTlsShape,
  INFLUX_URL: env.influxUrl,
  ...influxTlsShape,
  INFLUX_DATABASE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -')
    .default('agentmon'),
  // an empty value (a Secret key left blank) means "not set"
  INFLUX_USERNAME: z.string().optional().transform((v) => v || undefined),
  INFLUX_PASSWORD: z.string().optional().transform((v) => v || undefined),
  RAW_RETENTION: retention('90d'),
  AGG_RETENTION: retention('365d'),
  WRITE_BATCH_SIZE: positiveInt(20_000, 100_000),
  WRITE_FLUSH_MS: env.durationMs(500),
  WRITE_CONCURRENCY: positiveInt(4, 64),
  WRITER_OWN_LINES_BYTES: z.coerce.number().int().min(0).default(64 * 1024 * 1024),
  PUBLISH_LINGER_MS: z.coerce.number().int().min(0).max(1000).default(5),
  STREAM_COMPRESS_MIN_BYTES: z.coerce.number().int().min(0).default(65_536),
  AGENT_ANNOUNCE_INTERVAL_MS: z.coerce.number().int().min(0).max(10_000).default(1000),
  MAX_BODY_BYTES: positiveInt(10 * 1024 * 1024),
  MAX_POINTS: positiveInt(50_000),
  API_KEY_CACHE_MS: z.coerce.number().int().nonnegative().default(10_000),
  API_KEY_CACHE_SIZE: positiveInt(10_000),
  MAX_INFLIGHT_BYTES: positiveInt(256 * 1024 * 1024),
  WRITER_ACK_WAIT_MS: env.durationMs(60_000),
  BACKPRESSURE_MAX_BACKLOG: positiveInt(100_000),
  BACKPRESSURE_MAX_STREAM_FILL: z.coerce.number().gt(0).max(1).default(0.8),
  BACKPRESSURE_MAX_LAG_MS: env.durationMs(6 * 3_600_000),
  BACKPRESSURE_REFRESH_MS: env.durationMs(250),
  BACKPRESSURE_RETRY_AFTER_S: positiveInt(5, 3600),
  INGEST_RATE_WINDOW_S: positiveInt(60, 86_400),
  INGEST_MAX_PER_KEY: z.coerce.number().int().min(0).default(6000),
  INGEST_MAX_PER_IP: z.coerce.number().int().min(0).default(12_000),
  RATE_LIMIT_REDIS_TIMEOUT_MS: positiveInt(250, 10_000),
  RATE_LIMIT_LEASE_MS: z.coerce.number().int().min(0).max(10_000).default(250),
  DOWNSAMPLE_1M_EVERY_MS: wholeMinutes(5 * 60_000),
  DOWNSAMPLE_1H_EVERY_MS: wholeMinutes(30 * 60_000),
  DOWNSAMPLE_AGENTS_PER_QUERY: positiveInt(50, 10_000),
  DOWNSAMPLE_PAUSE_RATIO: z.coerce.number().min(0).max(100).default(2),
  DOWNSAMPLE_CATCH_UP_MS: env.durationMs(24 * 3_600_000),
  DOWNSAMPLE_THREAD: env.bool(true),
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
