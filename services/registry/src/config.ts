/**
 * The registry's configuration, parsed once at boot (a bad value stops the process with exit 78).
 *
 * | variable                  | default                                              | meaning |
 * |---------------------------|------------------------------------------------------|---------|
 * | PORT                      | 8003                                                 | HTTP port for /health/live, /health/ready and /metrics |
 * | HTTP_HOST                 | 0.0.0.0                                              | address the HTTP port binds to |
 * | LOG_LEVEL                 | info                                                 | pino level |
 * | NATS_URL                  | nats://127.0.0.1:4222                                | NATS servers, comma-separated (tls:// requires TLS) |
 * | DATABASE_URL              | postgres://postgres@127.0.0.1:5432/agentmon_registry | the service's own database (created and migrated at start) |
 * | HEARTBEAT_TIMEOUT_MS      | 90000                                                | an agent with no heartbeat for this long is offline |
 * | OFFLINE_SWEEP_INTERVAL_MS | 5000                                                 | how often the offline sweep runs |
 * | HEARTBEAT_WRITE_THROTTLE_MS | HEARTBEAT_TIMEOUT_MS / 6                           | telemetry of an agent known online that brings nothing new writes its last_seen at most this often (per replica); 0 writes every time; at most half the timeout |
 * | SHUTDOWN_TIMEOUT_MS       | 10000                                                | grace period on SIGTERM |
 * | TLS_CERT_FILE, TLS_KEY_FILE | (none)                                             | PEM certificate and key: the port serves HTTPS only (renewed files are picked up) |
 * | NATS_TLS_CA_FILE, NATS_TLS_CERT_FILE, NATS_TLS_KEY_FILE | (none)                 | CA and client certificate for NATS; any of them or tls:// in NATS_URL requires TLS |
 * | DATABASE_SSL_MODE         | (from DATABASE_URL, else plain)                      | disable, require, verify-ca or verify-full (libpq's meaning); a CA without a mode means verify-full |
 * | DATABASE_CA_FILE, DATABASE_CERT_FILE, DATABASE_KEY_FILE | (none)                 | PostgreSQL's CA and a client certificate (else sslrootcert/sslcert/sslkey in the URL) |
 *
 * The *_FILE variables are paths of PEM files, read and checked at boot (@agentmon/config, tls.ts).
 */
import { baseConfigShape, env, loadConfig, postgresTlsShape, z } from '@agentmon/config';

export const RegistryConfigSchema = z.object({
  ...baseConfigShape,
  PORT: env.port(8003),
  DATABASE_URL: env.postgresUrl('agentmon_registry'),
  ...postgresTlsShape,
  /** an agent with no heartbeat for this long is offline */
  HEARTBEAT_TIMEOUT_MS: env.durationMs(90_000),
  /** how often the offline sweep runs */
  OFFLINE_SWEEP_INTERVAL_MS: env.durationMs(5_000),
  /**
   * How often, at most, telemetry of an agent already known online (with nothing new to say about
   * itself) writes its last_seen. The stored last_seen then lags by less than this; the offline sweep
   * counts the timeout from it plus this, so an agent goes offline between the timeout and the
   * timeout plus this after its last batch, never earlier. Unset: a sixth of HEARTBEAT_TIMEOUT_MS.
   */
  HEARTBEAT_WRITE_THROTTLE_MS: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).optional()),
})
  .refine((c) => c.HEARTBEAT_WRITE_THROTTLE_MS === undefined || c.HEARTBEAT_WRITE_THROTTLE_MS <= c.HEARTBEAT_TIMEOUT_MS / 2, {
    path: ['HEARTBEAT_WRITE_THROTTLE_MS'],
    message: 'must be at most half of HEARTBEAT_TIMEOUT_MS',
  })
  .transform((c) => ({ ...c, HEARTBEAT_WRITE_THROTTLE_MS: c.HEARTBEAT_WRITE_THROTTLE_MS ?? Math.floor(c.HEARTBEAT_TIMEOUT_MS / 6) }));
export type RegistryConfig = z.output<typeof RegistryConfigSchema>;
export const REGISTRY_CONFIG = Symbol('REGISTRY_CONFIG');

export function loadRegistryConfig(source: NodeJS.ProcessEnv = process.env): RegistryConfig {
  return loadConfig('registry', RegistryConfigSchema, source);
}
