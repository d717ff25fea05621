import { jest } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { makeTestPki, type TestPki } from '../../../test/support/tls.js';
import { baseConfigShape, env, loadConfig, z } from './index.js';
import {
  influxTls,
  influxTlsShape,
  natsTls,
  PemFile,
  postgresConnection,
  postgresTlsShape,
  readPemFile,
  redisTlsOptions,
  redisTlsShape,
  serverTls,
  tlsConfigProblems,
} from './tls.js';

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki.remove());

const pem = (file: string, kind: 'certificate' | 'private key' | 'CA certificate' = 'certificate') => readPemFile(file, kind);

describe('PEM file variables', () => {
  const schema = z.object({ ...baseConfigShape, ...postgresTlsShape, ...redisTlsShape, ...influxTlsShape });

  it('are unset by default and "" counts as unset: every connection stays plain', () => {
    const parsed = schema.parse({ TLS_CERT_FILE: '', NATS_TLS_CA_FILE: '' });
    expect(parsed.TLS_CERT_FILE).toBeUndefined();
    expect(parsed.NATS_TLS_CA_FILE).toBeUndefined();
    expect(serverTls(parsed)).toBeUndefined();
    expect(natsTls(parsed)).toBeUndefined();
    expect(tlsConfigProblems(parsed)).toEqual([]);
  });

  it('read the file at parse time and keep its path', () => {
    const parsed = schema.parse({ TLS_CERT_FILE: pki.serverCert, TLS_KEY_FILE: pki.serverKey, REDIS_CA_FILE: pki.caCert });
    expect(parsed.TLS_CERT_FILE).toBeInstanceOf(PemFile);
    expect(parsed.TLS_CERT_FILE!.path).toBe(pki.serverCert);
    expect(parsed.TLS_CERT_FILE!.pem).toBe(pki.read(pki.serverCert));
    expect(serverTls(parsed)).toEqual({ cert: parsed.TLS_CERT_FILE, key: parsed.TLS_KEY_FILE });
  });

  it('refuse a missing file, naming the variable and the path', () => {
    const r = schema.safeParse({ DATABASE_CA_FILE: '/nonexistent/ca.pem' });
    expect(r.success).toBe(false);
    expect(r.error!.issues).toEqual([
      expect.objectContaining({ path: ['DATABASE_CA_FILE'], message: 'cannot read CA certificate file /nonexistent/ca.pem: no such file' }),
    ]);
  });

  it('refuse a file that is not what the variable expects', () => {
    const notPem = path.join(pki.dir, 'not-pem.txt');
    writeFileSync(notPem, 'hello');
    const broken = path.join(pki.dir, 'broken.crt');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    const r = schema.safeParse({ TLS_CERT_FILE: pki.serverKey, TLS_KEY_FILE: pki.serverCert, NATS_TLS_CA_FILE: notPem, INFLUX_CA_FILE: broken });
    const messages = Object.fromEntries(r.error!.issues.map((i) => [i.path.join('.'), i.message]));
    expect(messages.TLS_CERT_FILE).toMatch(/holds no PEM certificate/);
    expect(messages.TLS_KEY_FILE).toMatch(/holds no PEM private key/);
    expect(messages.NATS_TLS_CA_FILE).toMatch(/not-pem.txt holds no PEM CA certificate/);
    expect(messages.INFLUX_CA_FILE).toMatch(/cannot be parsed/);
  });

  it('refuse an encrypted private key', () => {
    const encrypted = path.join(pki.dir, 'encrypted.key');
    writeFileSync(encrypted, '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n');
    const r = schema.safeParse({ TLS_KEY_FILE: encrypted });
    expect(r.error!.issues[0]!.message).toMatch(/encrypted private key/);
  });

  it('never show the contents of a key in JSON or in inspect output', () => {
    const key = pem(pki.serverKey, 'private key');
    const body = key.pem.split('\n')[1]!;
    expect(JSON.stringify({ key })).toBe(JSON.stringify({ key: { path: pki.serverKey } }));
    expect(inspect({ key })).not.toContain(body);
  });

  it('are available to service schemas as env.pemFile', () => {
    const s = z.object({ X_CA_FILE: env.pemFile('CA certificate') });
    expect(s.parse({ X_CA_FILE: pki.caCert }).X_CA_FILE!.pem).toContain('BEGIN CERTIFICATE');
  });
});

describe('HTTPS of the service port', () => {
  it('needs the certificate and its own key together', () => {
    expect(tlsConfigProblems({ TLS_CERT_FILE: pem(pki.serverCert) })).toEqual(['TLS_CERT_FILE and TLS_KEY_FILE must be set together']);
    expect(tlsConfigProblems({ TLS_KEY_FILE: pem(pki.serverKey, 'private key') })).toEqual(['TLS_CERT_FILE and TLS_KEY_FILE must be set together']);
    const [mismatch] = tlsConfigProblems({ TLS_CERT_FILE: pem(pki.serverCert), TLS_KEY_FILE: pem(pki.clientKey, 'private key') });
    expect(mismatch).toBe(`TLS_KEY_FILE (${pki.clientKey}) is not the private key of the certificate in TLS_CERT_FILE (${pki.serverCert})`);
    expect(tlsConfigProblems({ TLS_CERT_FILE: pem(pki.serverCert), TLS_KEY_FILE: pem(pki.serverKey, 'private key') })).toEqual([]);
  });
});

describe('NATS', () => {
  it('stays plain for nats:// without files', () => {
    expect(natsTls({ NATS_URL: 'nats://a:4222,nats://b:4222' })).toBeUndefined();
    expect(natsTls({ NATS_URL: 'a:4222' })).toBeUndefined();
  });
  it('requires TLS for tls:// URLs, trusting the system CAs without a CA file', () => {
    expect(natsTls({ NATS_URL: 'tls://a:4222,tls://b:4222' })).toEqual({});
  });
  it('requires TLS when a CA or client certificate is given', () => {
    const ca = pem(pki.caCert, 'CA certificate');
    expect(natsTls({ NATS_URL: 'nats://a:4222', NATS_TLS_CA_FILE: ca })).toEqual({ ca: ca.pem });
    const cert = pem(pki.clientCert);
    const key = pem(pki.clientKey, 'private key');
    expect(natsTls({ NATS_URL: 'tls://a:4222', NATS_TLS_CA_FILE: ca, NATS_TLS_CERT_FILE: cert, NATS_TLS_KEY_FILE: key })).toEqual({ ca: ca.pem, cert: cert.pem, key: key.pem });
  });
  it('refuses mixed schemes and a client certificate without its key', () => {
    expect(tlsConfigProblems({ NATS_URL: 'tls://a:4222,nats://b:4222' })).toEqual(['NATS_URL mixes tls:// with other schemes; use tls:// for every server or for none']);
    expect(tlsConfigProblems({ NATS_URL: 'tls://a:4222', NATS_TLS_CERT_FILE: pem(pki.clientCert) })).toEqual([
      'NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE must be set together',
    ]);
  });
});

describe('Redis', () => {
  it('adds no TLS option to redis:// and an empty one (system CAs) to rediss://', () => {
    expect(redisTlsOptions({ REDIS_URL: 'redis://h:6379/0' })).toEqual({});
    expect(redisTlsOptions({ REDIS_URL: 'rediss://:pw@h:6380/0' })).toEqual({ tls: {} });
  });
  it('passes the CA and client certificate to rediss://', () => {
    const ca = pem(pki.caCert, 'CA certificate');
    const cert = pem(pki.clientCert);
    const key = pem(pki.clientKey, 'private key');
    expect(redisTlsOptions({ REDIS_URL: 'rediss://h:6380/0', REDIS_CA_FILE: ca, REDIS_CERT_FILE: cert, REDIS_KEY_FILE: key })).toEqual({
      tls: { ca: ca.pem, cert: cert.pem, key: key.pem },
    });
  });
  it('refuses TLS files with a redis:// URL, which would ignore them', () => {
    expect(tlsConfigProblems({ REDIS_URL: 'redis://h:6379/0', REDIS_CA_FILE: pem(pki.caCert, 'CA certificate') })).toEqual([
      'REDIS_CA_FILE, REDIS_CERT_FILE and REDIS_KEY_FILE need a rediss:// REDIS_URL (TLS); with redis:// they would be ignored',
    ]);
  });
});

describe('InfluxDB', () => {
  it('uses plain fetch for http:// and for https:// with a public certificate', () => {
    expect(influxTls({ INFLUX_URL: 'http://influx:8086' })).toBeUndefined();
    expect(influxTls({ INFLUX_URL: 'https://influx:8086' })).toBeUndefined();
  });
  it('passes a private CA to https://, and refuses one with http://', () => {
    const ca = pem(pki.caCert, 'CA certificate');
    expect(influxTls({ INFLUX_URL: 'https://influx:8086', INFLUX_CA_FILE: ca })).toEqual({ ca: ca.pem });
    expect(tlsConfigProblems({ INFLUX_URL: 'http://influx:8086', INFLUX_CA_FILE: ca })).toEqual([
      'INFLUX_CA_FILE, INFLUX_CERT_FILE and INFLUX_KEY_FILE need an https:// INFLUX_URL',
    ]);
  });
});

describe('PostgreSQL', () => {
  const URL_ = 'postgres://agentmon@db.example:5432/agentmon_auth';

  it('changes nothing without TLS settings', () => {
    expect(postgresConnection({ DATABASE_URL: URL_ })).toEqual({ url: URL_ });
  });

  it('takes sslmode from the URL and removes it there (node-postgres would let it override the ssl option)', () => {
    expect(postgresConnection({ DATABASE_URL: `${URL_}?sslmode=require&application_name=x` })).toEqual({
      url: `${URL_}?application_name=x`,
      ssl: { rejectUnauthorized: false },
    });
    expect(postgresConnection({ DATABASE_URL: `${URL_}?sslmode=disable` })).toEqual({ url: URL_, ssl: false });
    expect(postgresConnection({ DATABASE_URL: `${URL_}?sslmode=verify-full` })).toEqual({ url: URL_, ssl: { rejectUnauthorized: true } });
  });

  it('lets DATABASE_SSL_MODE and DATABASE_CA_FILE override the URL', () => {
    const ca = pem(pki.caCert, 'CA certificate');
    const r = postgresConnection({ DATABASE_URL: `${URL_}?sslmode=disable`, DATABASE_SSL_MODE: 'verify-full', DATABASE_CA_FILE: ca });
    expect(r).toEqual({ url: URL_, ssl: { ca: ca.pem, rejectUnauthorized: true } });
  });

  it('verifies the chain but not the host name for verify-ca, and for require with a CA (as libpq does)', () => {
    const ca = pem(pki.caCert, 'CA certificate');
    for (const mode of ['verify-ca', 'require'] as const) {
      const { ssl } = postgresConnection({ DATABASE_URL: URL_, DATABASE_SSL_MODE: mode, DATABASE_CA_FILE: ca });
      expect(ssl).toMatchObject({ ca: ca.pem, rejectUnauthorized: true });
      expect((ssl as { checkServerIdentity: () => unknown }).checkServerIdentity()).toBeUndefined();
    }
  });

  it('reads sslrootcert, sslcert and sslkey from the URL', () => {
    const r = postgresConnection({ DATABASE_URL: `${URL_}?sslmode=verify-full&sslrootcert=${pki.caCert}&sslcert=${pki.clientCert}&sslkey=${pki.clientKey}` });
    expect(r).toEqual({ url: URL_, ssl: { ca: pki.read(pki.caCert), cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey), rejectUnauthorized: true } });
  });

  it('means verify-full when only a CA is given', () => {
    expect(postgresConnection({ DATABASE_URL: URL_, DATABASE_CA_FILE: pem(pki.caCert, 'CA certificate') }).ssl).toMatchObject({ rejectUnauthorized: true });
  });

  it('refuses what it cannot honour, naming why', () => {
    const problems = (c: Record<string, unknown>) => tlsConfigProblems({ DATABASE_URL: URL_, ...c });
    expect(problems({ DATABASE_SSL_MODE: 'prefer' })).toEqual([
      'sslmode prefer is not supported (node-postgres cannot fall back between TLS and plain TCP); use disable, require, verify-ca or verify-full',
    ]);
    expect(problems({ DATABASE_SSL_MODE: 'verify-ca' })).toEqual([
      'sslmode verify-ca needs DATABASE_CA_FILE (or sslrootcert in DATABASE_URL); use verify-full to trust the system CAs',
    ]);
    expect(problems({ DATABASE_SSL_MODE: 'disable', DATABASE_CA_FILE: pem(pki.caCert, 'CA certificate') })).toEqual([
      'sslmode disable contradicts the CA or client certificate given for PostgreSQL',
    ]);
    expect(tlsConfigProblems({ DATABASE_URL: `${URL_}?sslmode=verify-full&sslrootcert=/nonexistent/root.crt` })).toEqual([
      'DATABASE_URL sslrootcert: cannot read CA certificate file /nonexistent/root.crt: no such file',
    ]);
    expect(tlsConfigProblems({ DATABASE_URL: `${URL_}?sslmode=bogus` })).toEqual(['sslmode bogus is not one of disable, require, verify-ca, verify-full']);
  });
});

describe('loadConfig', () => {
  it('stops the service with exit code 78 and one line per TLS problem', () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation(((code: number) => {
      throw new Error(`exit ${code}`);
    }) as never);
    const written: string[] = [];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as never);
    try {
      const schema = z.object({ ...baseConfigShape, REDIS_URL: env.redisUrl, ...redisTlsShape });
      expect(() => loadConfig('svc', schema, { TLS_CERT_FILE: pki.serverCert, REDIS_CA_FILE: pki.caCert })).toThrow('exit 78');
      const text = written.join('');
      expect(text).toContain('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
      expect(text).toContain('need a rediss:// REDIS_URL');
      const ok = loadConfig('svc', schema, { TLS_CERT_FILE: pki.serverCert, TLS_KEY_FILE: pki.serverKey, REDIS_URL: 'rediss://h:6380/0', REDIS_CA_FILE: pki.caCert });
      expect(redisTlsOptions(ok)).toEqual({ tls: { ca: pki.read(pki.caCert) } });
    } finally {
      exit.mockRestore();
      stderr.mockRestore();
    }
  });
});
