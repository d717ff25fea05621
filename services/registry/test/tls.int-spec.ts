/**
 * The registry with TLS to PostgreSQL and NATS, and HTTPS on its port. The local PostgreSQL runs
 * without TLS (its configuration is the machine's, not the tests'), so the service reaches it through
 * a proxy that speaks PostgreSQL's TLS negotiation with a certificate of a throwaway CA made by
 * openssl and refuses clients that do not ask for TLS; NATS is a nats-server of the test's own that
 * requires TLS with client certificates.
 */
import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { natsTls, postgresConnection, readPemFile, serverTls, tlsConfigProblems } from '@agentmon/config';
import { bootstrapService } from '@agentmon/http-kit';
import { createLogger } from '@agentmon/observability';
import { migrateOnly } from '@agentmon/persistence';
import { TEST_INFRA, INTEGRATION_PORTS } from '../../../test/support/test-env.js';
import { dropDatabase } from '../../../test/support/database.js';
import { httpsGet, makeTestPki, type TestPki } from '../../../test/support/tls.js';
import { startPostgresTlsProxy, startTlsNats, type RunningServer, type TlsProxy } from '../../../test/support/tls-servers.js';
import { AppModule } from '../src/app.module.js';
import { RegistryConfigSchema } from '../src/config.js';
import { ENTITIES } from '../src/entities.js';
import { MIGRATIONS } from '../src/migrations/index.js';

const DB = TEST_INFRA.postgresUrl('registry_tls_int');
// its own port: the other registry test file may run at the same time
const PORT = INTEGRATION_PORTS.registry + 20;

describe('registry over TLS (PostgreSQL verify-full, NATS with client certificates, HTTPS)', () => {
  let pki: TestPki;
  let proxy: TlsProxy;
  let nats: RunningServer;
  let app: INestApplication;
  let proxiedUrl: string;
  const logger = createLogger('registry-tls-test', (process.env.TEST_LOG_LEVEL as 'warn') ?? 'silent');

  beforeAll(async () => {
    pki = makeTestPki('agentmon-registry-tls-');
    await dropDatabase(DB);
    const real = new URL(DB);
    [proxy, nats] = await Promise.all([startPostgresTlsProxy(pki, { host: real.hostname, port: Number(real.port || 5432) }), startTlsNats(pki)]);
    const proxied = new URL(DB);
    proxied.host = `127.0.0.1:${proxy.port}`;
    // sslmode in the URL is overridden by DATABASE_SSL_MODE
    proxiedUrl = `${proxied.toString()}?sslmode=disable`;
    const config = RegistryConfigSchema.parse({
      NATS_URL: nats.url,
      NATS_TLS_CA_FILE: pki.caCert,
      NATS_TLS_CERT_FILE: pki.clientCert,
      NATS_TLS_KEY_FILE: pki.clientKey,
      DATABASE_URL: proxiedUrl,
      DATABASE_SSL_MODE: 'verify-full',
      DATABASE_CA_FILE: pki.caCert,
      TLS_CERT_FILE: pki.serverCert,
      TLS_KEY_FILE: pki.serverKey,
      PORT: String(PORT),
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
    });
    expect(tlsConfigProblems(config)).toEqual([]);
    app = await bootstrapService({
      service: 'registry',
      module: AppModule.forRoot(config, logger),
      logger,
      port: config.PORT,
      host: config.HTTP_HOST,
      natsUrl: config.NATS_URL,
      natsTls: natsTls(config),
      https: serverTls(config),
      rpc: true,
    });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await Promise.all([proxy?.stop(), nats?.stop()]);
    pki?.remove();
  });

  it('migrated and answers /health/ready over HTTPS, with PostgreSQL reached only over TLS', async () => {
    const res = await httpsGet(`https://127.0.0.1:${PORT}/health/ready`, pki.read(pki.caCert));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ service: 'registry', status: 'ok', checks: { postgres: { status: 'ok' }, nats: { status: 'ok' } } });
    expect(proxy.stats.tlsSessions).toBeGreaterThan(0);
    expect(proxy.stats.plainRefused).toBe(0);
    const direct = new Client({ connectionString: DB });
    await direct.connect();
    try {
      const { rows } = await direct.query('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0].n).toBe(MIGRATIONS.length);
    } finally {
      await direct.end();
    }
  });

  it('refuses a server whose certificate the configured CA did not sign, and the proxy refuses plain connections', async () => {
    const { url, ssl } = postgresConnection({ DATABASE_URL: proxiedUrl, DATABASE_SSL_MODE: 'verify-full', DATABASE_CA_FILE: readPemFile(pki.otherCaCert, 'CA certificate') });
    const distrusting = new Client({ connectionString: url, ...(ssl !== undefined ? { ssl } : {}) });
    await expect(distrusting.connect()).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    await distrusting.end().catch(() => undefined);

    const before = proxy.stats.plainRefused;
    const plain = new Client({ connectionString: proxiedUrl });
    await expect(plain.connect()).rejects.toThrow();
    await plain.end().catch(() => undefined);
    expect(proxy.stats.plainRefused).toBe(before + 1);
  });

  it('runs MIGRATE_ONLY over TLS (the Helm hook Job path)', async () => {
    const sessions = proxy.stats.tlsSessions;
    const applied = await migrateOnly({
      ...postgresConnection({ DATABASE_URL: `${proxiedUrl.replace('sslmode=disable', 'sslmode=verify-full')}&sslrootcert=${encodeURIComponent(pki.caCert)}` }),
      entities: ENTITIES,
      migrations: MIGRATIONS,
      applicationName: 'agentmon-registry-tls-migrate',
    });
    expect(applied).toHaveLength(MIGRATIONS.length);
    expect(proxy.stats.tlsSessions).toBeGreaterThan(sessions);
  });
});
