/**
 * The gateway's configuration, parsed once at boot (a bad value stops the process with exit 78).
 *
 * | variable                 | default                    | meaning |
 * |--------------------------|----------------------------|---------|
 * | PORT                     | 8000                       | HTTP port: REST under /api/v2, socket.io at /ws/dashboard, OpenAPI at /api/docs, /health/*, /metrics |
 * | HTTP_HOST                | 0.0.0.0                    | address to listen on |
 * | LOG_LEVEL                | info                       | pino level (fatal … trace, silent) |
 * | NATS_URL                 | nats://127.0.0.1:4222      | NATS servers, comma separated (request/reply to the services, live events) |
 * | REDIS_URL                | redis://127.0.0.1:6379/0   | the gateway's Redis (readiness; shared state of the gateway) |
 * | CORS_ORIGINS             | http://localhost:3000      | comma-separated browser origins allowed to call the API and open the socket (the dashboard); empty = none |
 * | RPC_TIMEOUT_MS           | 5000                       | how long a NATS request to a service may take before the caller gets 503 |
 * | HEALTH_RPC_TIMEOUT_MS    | 1500                       | timeout of each service's health question in /system/health |
 * | JWT_ISSUER               | agentmon                   | required `iss` of access tokens |
 * | JWT_AUDIENCE             | agentmon                   | required `aud` of access tokens |
 * | TRUST_PROXY              | loopback,linklocal,uniquelocal | which proxies' X-Forwarded-For is believed for the client ip (Express "trust proxy"); `false` believes none |
 * | BODY_LIMIT               | 1mb                        | largest JSON body (413 beyond) |
 * | SESSION_CACHE_MS         | 5000                       | how long "session still active" answers are cached; revocations announced by auth (evt.auth.revoked.v1) evict at once, this only bounds an announcement that never arrives |
 * | API_KEY_CACHE_MS         | 10000                      | how long API key verifications are cached; a revoked key is evicted at once by auth's announcement, this is the safety net |
 * | API_KEY_CACHE_MAX        | 10000                      | most API keys kept in that cache |
 * | JWKS_CACHE_MS            | 600000                     | how long the auth service's signing keys are kept before a refetch (an unknown `kid` refetches at once) |
 * | HEALTH_BROADCAST_MS      | 15000                      | period of `system_health_update` on the dashboard socket |
 * | API_RATE_WINDOW_S        | 60                         | window of the API budgets (seconds); budgets are GCRA in Redis, shared by all replicas, refilling one unit every window/limit |
 * | API_MAX_PER_USER         | 1200                       | API requests per user (access token) per window; then 429 with Retry-After; 0 = no per-user limit |
 * | API_MAX_PER_KEY          | 1200                       | API requests per API key per window; 0 = none |
 * | API_MAX_PER_IP           | 3000                       | API requests per client address (IPv6: per /64) per window, with or without valid credentials; 0 = none |
 * | LOGIN_RATE_WINDOW_S      | 60                         | window of the login budgets (seconds) |
 * | LOGIN_MAX_PER_USER       | 20                         | login attempts per username per window, from any address (then 429 with Retry-After) |
 * | LOGIN_MAX_PER_IP         | 200                        | login attempts per client address per window, for any username |
 * | RATE_LIMIT_REDIS_TIMEOUT_MS | 250                     | longest wait for Redis on a rate-limit check; beyond it (or Redis down) API requests pass unchecked and logins are checked per replica |
 * | SHUTDOWN_TIMEOUT_MS      | 10000                      | grace period on SIGTERM |
 * | TLS_CERT_FILE, TLS_KEY_FILE | (none)                  | PEM certificate and key: the port serves HTTPS only, socket.io wss:// (renewed files are picked up) |
 * | NATS_TLS_CA_FILE         | (system CAs)               | CA of the NATS servers; any NATS_TLS_* or tls:// in NATS_URL requires TLS |
 * | NATS_TLS_CERT_FILE, NATS_TLS_KEY_FILE | (none)        | client certificate for NATS servers that verify clients |
 * | REDIS_CA_FILE            | (system CAs)               | CA of Redis, for a rediss:// REDIS_URL |
 * | REDIS_CERT_FILE, REDIS_KEY_FILE | (none)              | client certificate for Redis (tls-auth-clients) |
 *
 * The *_FILE variables are paths of PEM files, read and checked at boot (@agentmon/config, tls.ts).
 */
import { baseConfigShape, env, loadConfig, redisTlsShape, z } from '@agentmon/config';

const list = z
  .string()
  .default('http://localhost:3000')
  .transform((s) =>
    s
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o.length > 0),
  )
  .refine((origins) => origins.every((o) => o === '*' || /^https?:\/\/[^/\s]+$/.test(o)), 'each origin must look like http(s)://host[:port] without a path')
  .refine((origins) => !origins.includes('*'), 'a wildcard origin is not allowed; name the dashboard origin');

const trustProxy = z
  .string()
  .default('loopback,linklocal,uniquelocal')
  .transform((s): string | boolean | number => {
    const v = s.trim();
    if (v === 'false' || v === '') return false;
    if (v === 'true') return true;
    if (/^\d+$/.test(v)) return Number(v);
    return v;
  });

export const GatewayConfigSchema = z.object({
  ...baseConfigShape,
  PORT: env.port(8000),
  REDIS_URL: env.redisUrl,
  ...redisTlsShape,
  CORS_ORIGINS: list,
  RPC_TIMEOUT_MS: env.durationMs(5_000),
  HEALTH_RPC_TIMEOUT_MS: env.durationMs(1_500),
  JWT_ISSUER: z.string().min(1).default('agentmon'),
  JWT_AUDIENCE: z.string().min(1).default('agentmon'),
  TRUST_PROXY: trustProxy,
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'must be like 512kb or 1mb')
    .default('1mb'),
  SESSION_CACHE_MS: env.durationMs(5_000),
  API_KEY_CACHE_MS: env.durationMs(10_000),
  API_KEY_CACHE_MAX: z.coerce.number().int().positive().default(10_000),
  JWKS_CACHE_MS: env.durationMs(600_000),
  HEALTH_BROADCAST_MS: env.durationMs(15_000),
  API_RATE_WINDOW_S: z.coerce.number().int().min(1).max(86_400).default(60),
  API_MAX_PER_USER: z.coerce.number().int().min(0).default(1200),
  API_MAX_PER_KEY: z.coerce.number().int().min(0).default(1200),
  API_MAX_PER_IP: z.coerce.number().int().min(0).default(3000),
  LOGIN_RATE_WINDOW_S: z.coerce.number().int().min(1).max(86_400).default(60),
  LOGIN_MAX_PER_USER: z.coerce.number().int().min(1).default(20),
  LOGIN_MAX_PER_IP: z.coerce.number().int().min(1).default(200),
  RATE_LIMIT_REDIS_TIMEOUT_MS: z.coerce.number().int().min(1).max(10_000).default(250),
});
export type GatewayConfig = z.output<typeof GatewayConfigSchema>;
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export function loadGatewayConfig(source: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig('gateway', GatewayConfigSchema, source);
}
