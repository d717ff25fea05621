/**
 * Configuration of the notification service, read once at boot (nothing else reads process.env).
 *
 * | variable                     | default                                               | meaning |
 * |------------------------------|-------------------------------------------------------|---------|
 * | PORT                         | 8005                                                  | HTTP port for /health/live, /health/ready and /metrics (no public API here) |
 * | HTTP_HOST                    | 0.0.0.0                                               | interface the HTTP port binds to |
 * | LOG_LEVEL                    | info                                                  | fatal, error, warn, info, debug, trace or silent |
 * | NATS_URL                     | nats://127.0.0.1:4222                                 | NATS servers (comma separated): RPC, alert events, audit events |
 * | DATABASE_URL                 | postgres://postgres@127.0.0.1:5432/agentmon_notification | the service's own PostgreSQL database (created and migrated at start) |
 * | NOTIFICATION_ENCRYPTION_KEY  | (required)                                            | base64 of 32 random bytes (`openssl rand -base64 32`): AES-256-GCM key for channel secrets |
 * | DASHBOARD_URL                | http://localhost:3000                                 | base URL of the web dashboard, for the links in notifications |
 * | SMTP_URL                     | (none)                                                | smtp:// or smtps:// URL (credentials may be in it) for email channels that name no smtp_url |
 * | SMTP_FROM                    | agentmon <agentmon@localhost>                         | sender address of notification emails |
 * | MAX_ATTEMPTS                 | 8                                                     | attempts per (alert, event, channel) before giving up |
 * | DELIVERY_TIMEOUT_MS          | 10000                                                 | time limit of one delivery attempt (HTTP request or SMTP session) |
 * | SHUTDOWN_TIMEOUT_MS          | 10000                                                 | grace period on SIGTERM |
 * | TLS_CERT_FILE, TLS_KEY_FILE  | (none)                                                | PEM certificate and key: the port serves HTTPS only (renewed files are picked up) |
 * | NATS_TLS_CA_FILE, NATS_TLS_CERT_FILE, NATS_TLS_KEY_FILE | (none)                     | CA and client certificate for NATS; any of them or tls:// in NATS_URL requires TLS |
 * | DATABASE_SSL_MODE            | (from DATABASE_URL, else plain)                       | disable, require, verify-ca or verify-full (libpq's meaning); a CA without a mode means verify-full |
 * | DATABASE_CA_FILE, DATABASE_CERT_FILE, DATABASE_KEY_FILE | (none)                     | PostgreSQL's CA and a client certificate (else sslrootcert/sslcert/sslkey in the URL) |
 *
 * The *_FILE variables are paths of PEM files, read and checked at boot (@agentmon/config, tls.ts).
 */
import { baseConfigShape, env, loadConfig, postgresTlsShape, z } from '@agentmon/config';

const ENCRYPTION_KEY_HINT = 'must be the base64 of exactly 32 bytes (make one with `openssl rand -base64 32`)';

/** Decodes NOTIFICATION_ENCRYPTION_KEY; undefined when it is not the base64 of 32 bytes. */
export function decodeEncryptionKey(value: string): Buffer | undefined {
  const trimmed = value.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) && !/^[A-Za-z0-9_-]+={0,2}$/.test(trimmed)) return undefined;
  const key = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
  return key.length === 32 ? key : undefined;
}

export const NotificationConfigSchema = z.object({
  ...baseConfigShape,
  PORT: env.port(8005),
  DATABASE_URL: env.postgresUrl('agentmon_notification'),
  ...postgresTlsShape,
  NOTIFICATION_ENCRYPTION_KEY: z
    .string({ error: `is required: ${ENCRYPTION_KEY_HINT}` })
    .refine((v) => decodeEncryptionKey(v) !== undefined, ENCRYPTION_KEY_HINT),
  DASHBOARD_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .default('http://localhost:3000')
    .transform((u) => u.replace(/\/+$/, '')),
  SMTP_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
  ),
  SMTP_FROM: z.string().min(3).default('agentmon <agentmon@localhost>'),
  MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  DELIVERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
});
export type NotificationConfig = z.output<typeof NotificationConfigSchema>;
export const NOTIFICATION_CONFIG = Symbol('NOTIFICATION_CONFIG');

export function loadNotificationConfig(source: NodeJS.ProcessEnv = process.env): NotificationConfig {
  return loadConfig('notification', NotificationConfigSchema, source);
}
