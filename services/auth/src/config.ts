/**
 * Configuration of the auth service, read once at boot (nothing else reads process.env).
 *
 *   PORT                      HTTP port for /health/live, /health/ready and /metrics (default 8002)
 *   HTTP_HOST                 address the HTTP port binds to (default 0.0.0.0)
 *   LOG_LEVEL                 fatal|error|warn|info|debug|trace|silent (default info)
 *   NATS_URL                  NATS server(s), comma-separated (default nats://127.0.0.1:4222)
 *   DATABASE_URL              PostgreSQL database owned by this service (default .../agentmon_auth)
 *   AUTH_ENCRYPTION_KEY       required: base64 of 32 random bytes (`openssl rand -base64 32`); encrypts the
 *                             JWT signing keys at rest with AES-256-GCM. Losing it invalidates the stored keys.
 *   AGENTMON_ADMIN_PASSWORD   password of the `admin` user created on first start (at least 12 characters);
 *                             when unset a random one is generated and printed once to stdout
 *   ACCESS_TOKEN_TTL_S        lifetime of access tokens (JWT) in seconds (default 900)
 *   REFRESH_TOKEN_TTL_S       lifetime of a refresh token in seconds, renewed by every refresh (default 14 days)
 *   SIGNING_KEY_ROTATE_AFTER_DAYS  age after which the JWT signing key is replaced; the previous key stays in
 *                             the JWKS so tokens it signed keep verifying (default 90)
 *   SHUTDOWN_TIMEOUT_MS       grace period for shutdown (default 10000)
 *   TLS_CERT_FILE, TLS_KEY_FILE  PEM certificate and key: the HTTP port serves HTTPS only (renewed files
 *                             are picked up)
 *   NATS_TLS_CA_FILE, NATS_TLS_CERT_FILE, NATS_TLS_KEY_FILE  CA and client certificate for NATS; any of
 *                             them, or tls:// in NATS_URL, requires TLS
 *   DATABASE_SSL_MODE         disable, require, verify-ca or verify-full (libpq's meaning; default: the
 *                             sslmode of DATABASE_URL, else plain TCP; a CA without a mode means verify-full)
 *   DATABASE_CA_FILE, DATABASE_CERT_FILE, DATABASE_KEY_FILE  PostgreSQL's CA and a client certificate
 *                             (else sslrootcert/sslcert/sslkey in DATABASE_URL)
 *   The *_FILE variables are paths of PEM files, read and checked at boot (@agentmon/config, tls.ts).
 */
import { baseConfigShape, env, loadConfig, postgresTlsShape, z } from '@agentmon/config';
import { PASSWORD_MIN_LENGTH } from './crypto/password.js';

const ENCRYPTION_KEY_HINT = 'base64 of 32 random bytes, e.g. the output of `openssl rand -base64 32`';

export const EncryptionKeySchema = z
  .string({ error: (issue) => (issue.input === undefined ? `is required: ${ENCRYPTION_KEY_HINT}` : 'must be a string') })
  .trim()
  .refine((s) => /^[A-Za-z0-9+/]+={0,2}$/.test(s) && Buffer.from(s, 'base64').length === 32, `must be ${ENCRYPTION_KEY_HINT}`)
  .transform((s) => Buffer.from(s, 'base64'));

const emptyAsUnset = (v: unknown) => (v === '' ? undefined : v);

export const AuthConfigSchema = z.object({
  ...baseConfigShape,
  PORT: env.port(8002),
  DATABASE_URL: env.postgresUrl('agentmon_auth'),
  ...postgresTlsShape,
  AUTH_ENCRYPTION_KEY: EncryptionKeySchema,
  AGENTMON_ADMIN_PASSWORD: z.preprocess(
    emptyAsUnset,
    z.string().min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`).max(1024).optional(),
  ),
  ACCESS_TOKEN_TTL_S: z.coerce.number().int().min(30).max(86_400).default(900),
  REFRESH_TOKEN_TTL_S: z.coerce.number().int().min(60).max(365 * 86_400).default(14 * 86_400),
  SIGNING_KEY_ROTATE_AFTER_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
});
export type AuthConfig = z.output<typeof AuthConfigSchema>;
export const AUTH_CONFIG = Symbol('AUTH_CONFIG');

export function loadAuthConfig(source: NodeJS.ProcessEnv = process.env): AuthConfig {
  return loadConfig('auth', AuthConfigSchema, source);
}
