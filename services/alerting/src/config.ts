/**
 * Configuration of the alerting service, parsed once at boot (a bad value stops the process with exit 78).
 *
 * | variable               | default                                              | meaning |
 * |------------------------|------------------------------------------------------|---------|
 * | PORT                   | 8004                                                 | HTTP port for /health/live, /health/ready and /metrics (the service has no public API; the gateway reaches it over NATS) |
 * | HTTP_HOST              | 0.0.0.0                                              | address the HTTP port binds to |
 * | LOG_LEVEL              | info                                                 | pino level: fatal, error, warn, info, debug, trace, silent |
 * | NATS_URL               | nats://127.0.0.1:4222                                | NATS server(s), comma-separated; request/reply and JetStream |
 * | DATABASE_URL           | postgres://postgres@127.0.0.1:5432/agentmon_alerting | the service's own PostgreSQL database (created and migrated at start) |
 * | REDIS_URL              | redis://127.0.0.1:6379/0                             | Redis for evaluation state: sample windows, last-seen times, locks |
 * | REDIS_KEY_PREFIX       | agentmon:alerting:                                   | prefix of every Redis key this service writes (lets tests and several installs share one Redis) |
 * | EVALUATION_TICK_MS     | 5000                                                 | period of the tick that promotes pending alerts, sweeps absence conditions and re-publishes unsent events; one replica at a time runs it |
 * | AGENT_CACHE_TTL_MS     | 30000                                                | how long an agent fetched from the registry (tags, groups) is reused for scope checks |
 * | SHUTDOWN_TIMEOUT_MS    | 10000                                                | (shared) grace period on SIGTERM |
 * | TLS_CERT_FILE, TLS_KEY_FILE | (none)                                          | PEM certificate and key: the port serves HTTPS only (renewed files are picked up) |
 * | NATS_TLS_CA_FILE, NATS_TLS_CERT_FILE, NATS_TLS_KEY_FILE | (none)              | CA and client certificate for NATS; any of them or tls:// in NATS_URL requires TLS |
 * | DATABASE_SSL_MODE      | (from DATABASE_URL, else plain)                      | disable, require, verify-ca or verify-full (libpq's meaning); a CA without a mode means verify-full |
 * | DATABASE_CA_FILE, DATABASE_CERT_FILE, DATABASE_KEY_FILE | (none)              | PostgreSQL's CA and a client certificate (else sslrootcert/sslcert/sslkey in the URL) |
 * | REDIS_CA_FILE, REDIS_CERT_FILE, REDIS_KEY_FILE | (none)                       | CA and client certificate for a rediss:// REDIS_URL |
 *
 * The *_FILE variables are paths of PEM files, read and checked at boot (@agentmon/config, tls.ts).
 */
import { baseConfigShape, env, loadConfig, postgresTlsShape, redisTlsShape, z } from '@agentmon/config';

export const AlertingConfigSchema = z.object({
  ...baseConfigShape,
  PORT: env.port(8004),
  DATABASE_URL: env.postgresUrl('agentmon_alerting'),
  ...postgresTlsShape,
  REDIS_URL: env.redisUrl,
  ...redisTlsShape,
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'must be 1-64 of [A-Za-z0-9:_-]')
    .default('agentmon:alerting:'),
  EVALUATION_TICK_MS: z.coerce.number().int().min(100).max(300_000).default(5_000),
  AGENT_CACHE_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
});
export type AlertingConfig = z.output<typeof AlertingConfigSchema>;
export const ALERTING_CONFIG = Symbol('ALERTING_CONFIG');

export function loadAlertingConfig(source: NodeJS.ProcessEnv = process.env): AlertingConfig {
  return loadConfig('alerting', AlertingConfigSchema, source);
}
