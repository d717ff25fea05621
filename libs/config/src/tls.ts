import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { inspect } from 'node:util';
import { z } from 'zod';

/**
 * TLS by configuration. Every variable here is a path to a PEM file; the file is read and checked
 * when the configuration is parsed, so a missing, unreadable or malformed file stops the service at
 * boot with a message naming the variable, never at the first connection. Nothing is on by default:
 * without these variables every connection stays plain TCP, as before.
 */

/** A PEM file read at boot. Its contents never reach a log line or a JSON body, only its path. */
export class PemFile {
  constructor(
    readonly path: string,
    readonly pem: string,
  ) {}
  toJSON(): { path: string } {
    return { path: this.path };
  }
  [inspect.custom](): string {
    return `PemFile(${this.path})`;
  }
}

export type PemKind = 'certificate' | 'private key' | 'CA certificate';

/** Why a PEM text is not what it should be, or undefined when it is fine. */
export function pemProblem(pem: string, kind: PemKind): string | undefined {
  if (kind === 'private key') {
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) return 'holds no PEM private key (-----BEGIN ... PRIVATE KEY-----)';
    if (/ENCRYPTED/.test(pem)) return 'holds an encrypted private key; give the key without a passphrase (mount it from a Secret)';
    try {
      createPrivateKey(pem);
    } catch (err) {
      return `holds a private key that cannot be read (${(err as Error).message})`;
    }
    return undefined;
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return `holds no PEM ${kind} (-----BEGIN CERTIFICATE-----)`;
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return `holds a certificate that cannot be parsed (block ${i + 1}: ${(err as Error).message})`;
    }
  }
  return undefined;
}

/** Reads and checks a PEM file; throws an Error whose message names the file and the problem. */
export function readPemFile(path: string, kind: PemKind): PemFile {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${kind} file ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? (err as Error).message)}`);
  }
  const problem = pemProblem(pem, kind);
  if (problem) throw new Error(`${kind} file ${path} ${problem}`);
  return new PemFile(path, pem);
}

/** An optional variable holding the path of a PEM file, read at parse time ("" counts as unset). */
export const pemFile = (kind: PemKind) =>
  z
    .preprocess((v) => (v === '' ? undefined : v), z.string().optional())
    .transform((path, ctx): PemFile | undefined => {
      if (path === undefined) return undefined;
      try {
        return readPemFile(path, kind);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

// ---------------------------------------------------------------------------------------------------
// The variables, grouped by what they secure. Services spread the groups they need into their schema.
// ---------------------------------------------------------------------------------------------------

/** HTTPS on the service's own port (every service; in baseConfigShape). */
export const serverTlsShape = {
  /** PEM certificate (chain) the HTTP port serves; with TLS_KEY_FILE the port speaks HTTPS only */
  TLS_CERT_FILE: pemFile('certificate'),
  /** PEM private key of TLS_CERT_FILE (unencrypted) */
  TLS_KEY_FILE: pemFile('private key'),
};

/** TLS to NATS (every service; in baseConfigShape). TLS is required when NATS_URL uses tls:// or any of these is set. */
export const natsTlsShape = {
  /** CA certificate(s) that sign the NATS servers' certificates (default: the system's CAs) */
  NATS_TLS_CA_FILE: pemFile('CA certificate'),
  /** client certificate, for servers that verify clients (`verify: true`) */
  NATS_TLS_CERT_FILE: pemFile('certificate'),
  NATS_TLS_KEY_FILE: pemFile('private key'),
};

const PG_SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type PostgresSslMode = (typeof PG_SSL_MODES)[number];

/** TLS to PostgreSQL (services with a database). */
export const postgresTlsShape = {
  /** libpq sslmode: disable, require, verify-ca or verify-full; overrides `sslmode` in DATABASE_URL */
  DATABASE_SSL_MODE: z.preprocess((v) => (v === '' ? undefined : v), z.enum(PG_SSL_MODES).optional()),
  /** CA certificate(s) of the server (libpq sslrootcert); overrides `sslrootcert` in DATABASE_URL */
  DATABASE_CA_FILE: pemFile('CA certificate'),
  /** client certificate and key (libpq sslcert/sslkey), for certificate authentication */
  DATABASE_CERT_FILE: pemFile('certificate'),
  DATABASE_KEY_FILE: pemFile('private key'),
};

/** TLS to Redis (services with Redis): a rediss:// REDIS_URL, and these for a private CA or client certificates. */
export const redisTlsShape = {
  REDIS_CA_FILE: pemFile('CA certificate'),
  REDIS_CERT_FILE: pemFile('certificate'),
  REDIS_KEY_FILE: pemFile('private key'),
};

/** TLS to InfluxDB (ingest): an https:// INFLUX_URL, and these for a private CA or client certificates. */
export const influxTlsShape = {
  INFLUX_CA_FILE: pemFile('CA certificate'),
  INFLUX_CERT_FILE: pemFile('certificate'),
  INFLUX_KEY_FILE: pemFile('private key'),
};

// ---------------------------------------------------------------------------------------------------
// What the libraries that open connections are given. Plain data: no client library is imported here.
// ---------------------------------------------------------------------------------------------------

/** PEM texts for a TLS client: trusted CAs (else the system's) and an optional client certificate. */
export interface TlsClientMaterial {
  ca?: string;
  cert?: string;
  key?: string;
}

/** Certificate and key a server presents, as files (the HTTP server re-reads them when they change). */
export interface ServerTls {
  cert: PemFile;
  key: PemFile;
}

type Maybe<T> = T | undefined;

function material(ca: Maybe<PemFile>, cert: Maybe<PemFile>, key: Maybe<PemFile>): TlsClientMaterial {
  return { ...(ca ? { ca: ca.pem } : {}), ...(cert ? { cert: cert.pem } : {}), ...(key ? { key: key.pem } : {}) };
}

/** HTTPS options of the service's port, or undefined for plain HTTP. */
export function serverTls(c: { TLS_CERT_FILE?: Maybe<PemFile>; TLS_KEY_FILE?: Maybe<PemFile> }): ServerTls | undefined {
  if (!c.TLS_CERT_FILE && !c.TLS_KEY_FILE) return undefined;
  if (!c.TLS_CERT_FILE || !c.TLS_KEY_FILE) throw new Error('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  return { cert: c.TLS_CERT_FILE, key: c.TLS_KEY_FILE };
}

function natsSchemes(url: string): string[] {
  return url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => /^([a-z][a-z0-9+.-]*):\/\//i.exec(s)?.[1]?.toLowerCase() ?? 'nats');
}

/**
 * TLS options for the NATS client (the `tls` option of @nats-io/transport-node), or undefined for
 * plain TCP (the client still upgrades when a server demands TLS, trusting the system's CAs).
 */
export function natsTls(c: {
  NATS_URL: string;
  NATS_TLS_CA_FILE?: Maybe<PemFile>;
  NATS_TLS_CERT_FILE?: Maybe<PemFile>;
  NATS_TLS_KEY_FILE?: Maybe<PemFile>;
}): TlsClientMaterial | undefined {
  const schemes = natsSchemes(c.NATS_URL);
  const tlsUrl = schemes.includes('tls');
  if (tlsUrl && schemes.some((s) => s !== 'tls')) throw new Error('NATS_URL mixes tls:// with other schemes; use tls:// for every server or for none');
  const files = c.NATS_TLS_CA_FILE || c.NATS_TLS_CERT_FILE || c.NATS_TLS_KEY_FILE;
  if (!tlsUrl && !files) return undefined;
  pairOf('NATS_TLS_CERT_FILE', c.NATS_TLS_CERT_FILE, 'NATS_TLS_KEY_FILE', c.NATS_TLS_KEY_FILE);
  return material(c.NATS_TLS_CA_FILE, c.NATS_TLS_CERT_FILE, c.NATS_TLS_KEY_FILE);
}

/**
 * ioredis options for TLS: `{ tls }` for a rediss:// URL (spread it into the client's options), `{}`
 * for redis://. The CA and client files are refused with a redis:// URL, which would ignore them.
 */
export function redisTlsOptions(c: {
  REDIS_URL: string;
  REDIS_CA_FILE?: Maybe<PemFile>;
  REDIS_CERT_FILE?: Maybe<PemFile>;
  REDIS_KEY_FILE?: Maybe<PemFile>;
}): { tls?: ConnectionOptions } {
  const secure = /^rediss:\/\//i.test(c.REDIS_URL);
  const files = c.REDIS_CA_FILE || c.REDIS_CERT_FILE || c.REDIS_KEY_FILE;
  if (!secure) {
    if (files) throw new Error('REDIS_CA_FILE, REDIS_CERT_FILE and REDIS_KEY_FILE need a rediss:// REDIS_URL (TLS); with redis:// they would be ignored');
    return {};
  }
  pairOf('REDIS_CERT_FILE', c.REDIS_CERT_FILE, 'REDIS_KEY_FILE', c.REDIS_KEY_FILE);
  return { tls: material(c.REDIS_CA_FILE, c.REDIS_CERT_FILE, c.REDIS_KEY_FILE) };
}

/** TLS material for InfluxDB over https://, or undefined for http:// (where the files are refused). */
export function influxTls(c: {
  INFLUX_URL: string;
  INFLUX_CA_FILE?: Maybe<PemFile>;
  INFLUX_CERT_FILE?: Maybe<PemFile>;
  INFLUX_KEY_FILE?: Maybe<PemFile>;
}): TlsClientMaterial | undefined {
  const secure = /^https:\/\//i.test(c.INFLUX_URL);
  const files = c.INFLUX_CA_FILE || c.INFLUX_CERT_FILE || c.INFLUX_KEY_FILE;
  if (!secure) {
    if (files) throw new Error('INFLUX_CA_FILE, INFLUX_CERT_FILE and INFLUX_KEY_FILE need an https:// INFLUX_URL');
    return undefined;
  }
  pairOf('INFLUX_CERT_FILE', c.INFLUX_CERT_FILE, 'INFLUX_KEY_FILE', c.INFLUX_KEY_FILE);
  // an https URL with a public certificate needs nothing: Node's fetch trusts the system's CAs
  return files ? material(c.INFLUX_CA_FILE, c.INFLUX_CERT_FILE, c.INFLUX_KEY_FILE) : undefined;
}

/** node-postgres `ssl` option: false for plain TCP, or tls.connect options. */
export type PostgresSsl = false | ConnectionOptions;

const SSL_URL_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl', 'sslcrl', 'sslpassword'];

/** The URL without the TLS parameters (node-postgres would let them override an explicit `ssl`). */
export function withoutSslParams(url: string): string {
  const u = new URL(url);
  let changed = false;
  for (const p of SSL_URL_PARAMS) {
    if (u.searchParams.has(p)) {
      u.searchParams.delete(p);
      changed = true;
    }
  }
  return changed ? u.toString() : url;
}

/**
 * Where and how a service connects to PostgreSQL. The TLS settings come from DATABASE_SSL_MODE and
 * the DATABASE_*_FILE variables, else from libpq parameters in DATABASE_URL (`sslmode`, `sslrootcert`,
 * `sslcert`, `sslkey`), with libpq's meaning:
 *
 * - `disable`: plain TCP;
 * - `require`: TLS without checking the certificate, unless a CA is given (then as verify-ca);
 * - `verify-ca`: TLS, the certificate must be signed by the given CA (the host name is not checked);
 * - `verify-full`: TLS, signed by the given CA (or a system CA) and issued for the host name.
 *
 * Without any of them the connection is plain TCP as before; a CA or client certificate without a
 * mode means verify-full. `allow` and `prefer` are refused: node-postgres cannot fall back between
 * TLS and plain TCP, so they would not mean what they say.
 */
export function postgresConnection(c: {
  DATABASE_URL: string;
  DATABASE_SSL_MODE?: Maybe<PostgresSslMode>;
  DATABASE_CA_FILE?: Maybe<PemFile>;
  DATABASE_CERT_FILE?: Maybe<PemFile>;
  DATABASE_KEY_FILE?: Maybe<PemFile>;
}): { url: string; ssl?: PostgresSsl } {
  let parsed: URL;
  try {
    parsed = new URL(c.DATABASE_URL);
  } catch {
    throw new Error('DATABASE_URL is not a URL');
  }
  const q = parsed.searchParams;
  const fromUrl = (param: string, kind: PemKind): PemFile | undefined => {
    const path = q.get(param);
    if (!path || (param === 'sslrootcert' && path === 'system')) return undefined;
    try {
      return readPemFile(path, kind);
    } catch (err) {
      throw new Error(`DATABASE_URL ${param}: ${(err as Error).message}`);
    }
  };
  const ca = c.DATABASE_CA_FILE ?? fromUrl('sslrootcert', 'CA certificate');
  const cert = c.DATABASE_CERT_FILE ?? fromUrl('sslcert', 'certificate');
  const key = c.DATABASE_KEY_FILE ?? fromUrl('sslkey', 'private key');
  pairOf('DATABASE_CERT_FILE (sslcert)', cert, 'DATABASE_KEY_FILE (sslkey)', key);

  let mode: string | undefined = c.DATABASE_SSL_MODE ?? q.get('sslmode') ?? undefined;
  const legacy = q.get('ssl');
  if (!mode && legacy !== null) mode = ['true', '1'].includes(legacy) ? 'verify-full' : ['false', '0'].includes(legacy) ? 'disable' : legacy;
  if (!mode && (ca || cert || q.get('sslrootcert') === 'system')) mode = 'verify-full';
  const url = withoutSslParams(c.DATABASE_URL);
  if (!mode) return { url };

  if (mode === 'allow' || mode === 'prefer') {
    throw new Error(`sslmode ${mode} is not supported (node-postgres cannot fall back between TLS and plain TCP); use disable, require, verify-ca or verify-full`);
  }
  if (mode === 'disable') {
    if (ca || cert) throw new Error('sslmode disable contradicts the CA or client certificate given for PostgreSQL');
    return { url, ssl: false };
  }
  const base: ConnectionOptions = { ...material(ca, cert, key) };
  switch (mode) {
    case 'require':
      // libpq: with a root certificate, require behaves as verify-ca
      return ca ? { url, ssl: { ...base, rejectUnauthorized: true, checkServerIdentity: () => undefined } } : { url, ssl: { ...base, rejectUnauthorized: false } };
    case 'verify-ca':
      if (!ca) throw new Error('sslmode verify-ca needs DATABASE_CA_FILE (or sslrootcert in DATABASE_URL); use verify-full to trust the system CAs');
      return { url, ssl: { ...base, rejectUnauthorized: true, checkServerIdentity: () => undefined } };
    case 'verify-full':
      return { url, ssl: { ...base, rejectUnauthorized: true } };
    default:
      throw new Error(`sslmode ${mode} is not one of disable, require, verify-ca, verify-full`);
  }
}

function pairOf(certName: string, cert: Maybe<PemFile>, keyName: string, key: Maybe<PemFile>): void {
  if (!cert && !key) return;
  if (!cert || !key) throw new Error(`${certName} and ${keyName} must be set together`);
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(cert.pem)?.[0];
  let matches = false;
  try {
    matches = first !== undefined && new X509Certificate(first).checkPrivateKey(createPrivateKey(key.pem));
  } catch {
    matches = false;
  }
  if (!matches) throw new Error(`${keyName} (${key.path}) is not the private key of the certificate in ${certName} (${cert.path})`);
}

/**
 * Problems that involve several TLS variables (a certificate without its key, a key that does not
 * match, files that the URL's scheme would ignore). Each check runs only when the configuration has
 * the variables it reads. loadConfig reports them like any other invalid variable.
 */
export function tlsConfigProblems(config: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const attempt = (check: () => unknown) => {
    try {
      check();
    } catch (err) {
      problems.push((err as Error).message);
    }
  };
  const has = (k: string) => k in config;
  const c = config as never;
  if (has('TLS_CERT_FILE') || has('TLS_KEY_FILE')) {
    attempt(() => {
      const s = serverTls(c);
      if (s) pairOf('TLS_CERT_FILE', s.cert, 'TLS_KEY_FILE', s.key);
    });
  }
  if (typeof config.NATS_URL === 'string') attempt(() => natsTls(c));
  if (typeof config.REDIS_URL === 'string') attempt(() => redisTlsOptions(c));
  if (typeof config.INFLUX_URL === 'string') attempt(() => influxTls(c));
  if (typeof config.DATABASE_URL === 'string') attempt(() => postgresConnection(c));
  return problems;
}
