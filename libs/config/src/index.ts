import { z } from 'zod';
import { natsTlsShape, pemFile, serverTlsShape, tlsConfigProblems } from './tls.js';

export * from './tls.js';

/**
 * Parses the environment with the service's schema. A bad or missing variable stops the process
 * with one line per problem, before anything else starts. This is the only place that reads
 * process.env.
 */
export function loadConfig<T extends z.ZodType>(service: string, schema: T, env: NodeJS.ProcessEnv = process.env): z.output<T> {
  const parsed = schema.safeParse(env);
  let lines: string[];
  if (parsed.success) {
    // problems that involve several variables (a TLS certificate without its key, ...)
    const problems = tlsConfigProblems(parsed.data as Record<string, unknown>);
    if (problems.length === 0) return parsed.data;
    lines = problems.map((p) => `  ${p}`);
  } else {
    lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
  }
  process.stderr.write(
    JSON.stringify({ level: 'fatal', service, msg: 'invalid configuration', problems: lines.map((l) => l.trim()) }) + '\n',
  );
  process.stderr.write(`${service}: invalid configuration\n${lines.join('\n')}\n`);
  process.exit(78); // EX_CONFIG
}

const port = (def: number) => z.coerce.number().int().min(1).max(65535).default(def);
const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Building blocks every service schema is made of. */
export const env = {
  port,
  bool,
  url: (def?: string) => (def ? z.url().default(def) : z.url()),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** comma-separated; tls:// (for every server) requires TLS */
  natsUrl: z.string().min(1).default('nats://127.0.0.1:4222'),
  redisUrl: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').default('redis://127.0.0.1:6379/0'),
  postgresUrl: (db: string) =>
    z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').default(`postgres://postgres@127.0.0.1:5432/${db}`),
  influxUrl: z.url().default('http://127.0.0.1:8086'),
  durationMs: (def: number) => z.coerce.number().int().positive().default(def),
  /** optional path of a PEM file (certificate, private key or CA), read and checked at boot */
  pemFile,
};

/** Fields every service has. */
export const baseConfigShape = {
  LOG_LEVEL: env.logLevel,
  NATS_URL: env.natsUrl,
  /** port for /health/*, /metrics (and the public API on gateway and ingest) */
  HTTP_HOST: z.string().default('0.0.0.0'),
  SHUTDOWN_TIMEOUT_MS: env.durationMs(10_000),
  /** run the service's migrations, then exit (the Helm pre-upgrade hook Jobs use this) */
  MIGRATE_ONLY: bool(false),
  /** HTTPS on PORT: TLS_CERT_FILE, TLS_KEY_FILE (see tls.ts) */
  ...serverTlsShape,
  /** TLS to NATS: NATS_TLS_CA_FILE, NATS_TLS_CERT_FILE, NATS_TLS_KEY_FILE, or tls:// in NATS_URL */
  ...natsTlsShape,
};

export { z };
