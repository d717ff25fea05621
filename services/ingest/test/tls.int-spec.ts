/**
 * Ingest with TLS everywhere, against real servers that demand it: HTTPS on its Fastify port with a
 * certificate of a throwaway CA made by openssl, NATS with JetStream (nats-server with a tls block,
 * client certificates required), Redis (redis-server --tls-port, client certificates required), and
 * InfluxDB behind an HTTPS proxy that trusts nothing but TLS (the local InfluxDB has no TLS of its own).
 * The configuration goes through the service's own loadIngestConfig.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { natsTls, readPemFile } from '@agentmon/config';
import { RpcClient } from '@agentmon/messaging';
import { createLogger } from '@agentmon/observability';
import { INTEGRATION_PORTS, TEST_INFRA } from '../../../test/support/test-env.js';
import { httpsGet, makeTestPki, type TestPki } from '../../../test/support/tls.js';
import { startHttpsProxy, startTlsNats, startTlsRedis, type RunningServer, type TlsProxy } from '../../../test/support/tls-servers.js';
import { loadIngestConfig } from '../src/config.js';
import { startIngest } from '../src/ingest-app.js';
import { InfluxClient } from '../src/influx/influx.client.js';

const OFFSET = Number(process.env.AGENTMON_TEST_PORT_OFFSET ?? 0);
// its own port and database: the other ingest test file may run at the same time
const PORT = INTEGRATION_PORTS.ingest + 20;
const DB = `agentmon_tls_int${OFFSET || ''}`;

async function influxql(q: string): Promise<any> {
  const res = await fetch(`${TEST_INFRA.influxUrl}/query`, { method: 'POST', body: new URLSearchParams({ q }) });
  return res.json();
}

describe('ingest over TLS (HTTPS on Fastify, NATS, Redis and InfluxDB over TLS)', () => {
  let pki: TestPki;
  let nats: RunningServer;
  let redis: RunningServer;
  let influxProxy: TlsProxy;
  let app: INestApplication;
  let rpc: RpcClient;

  beforeAll(async () => {
    pki = makeTestPki('agentmon-ingest-tls-');
    await influxql(`DROP DATABASE "${DB}"`);
    [nats, redis, influxProxy] = await Promise.all([startTlsNats(pki), startTlsRedis(pki), startHttpsProxy(pki, TEST_INFRA.influxUrl)]);
    const config = loadIngestConfig({
      PORT: String(PORT),
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      TLS_CERT_FILE: pki.serverCert,
      TLS_KEY_FILE: pki.serverKey,
      NATS_URL: nats.url,
      NATS_TLS_CA_FILE: pki.caCert,
      NATS_TLS_CERT_FILE: pki.clientCert,
      NATS_TLS_KEY_FILE: pki.clientKey,
      REDIS_URL: redis.url,
      REDIS_CA_FILE: pki.caCert,
      REDIS_CERT_FILE: pki.clientCert,
      REDIS_KEY_FILE: pki.clientKey,
      INFLUX_URL: influxProxy.url,
      INFLUX_CA_FILE: pki.caCert,
      INFLUX_DATABASE: DB,
    });
    app = await startIngest(config, createLogger('ingest-tls-test', config.LOG_LEVEL));
    rpc = new RpcClient(nats.url, 10_000, 'ingest-tls-test', natsTls(config));
    await rpc.connect();
  }, 60_000);

  afterAll(async () => {
    await rpc?.close();
    await app?.close();
    await Promise.all([nats?.stop(), redis?.stop(), influxProxy?.stop()]);
    await influxql(`DROP DATABASE "${DB}"`);
    pki?.remove();
  });

  it('answers /health/ready over HTTPS to a client that trusts the CA, and refuses one that does not', async () => {
    const ok = await httpsGet(`https://127.0.0.1:${PORT}/health/ready`, pki.read(pki.caCert));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ service: 'ingest', status: 'ok', checks: { nats: { status: 'ok' } } });
    await expect(httpsGet(`https://127.0.0.1:${PORT}/health/ready`, pki.read(pki.otherCaCert))).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    await expect(fetch(`http://127.0.0.1:${PORT}/health/live`)).rejects.toThrow();
  });

  it('answers request/reply over TLS NATS, with InfluxDB and Redis reached over TLS', async () => {
    const health = await rpc.request('rpc.ingest.health.v1', {});
    expect(health.status).toBe('ok');
    expect(health.checks).toMatchObject({ nats: { status: 'ok' }, influxdb: { status: 'ok' }, redis: { status: 'ok' } });
  });

  it('migrated InfluxDB through the HTTPS proxy at start', async () => {
    expect(influxProxy.stats.tlsSessions).toBeGreaterThan(0);
    const rps = await influxql(`SHOW RETENTION POLICIES ON "${DB}"`);
    const names = (rps.results[0].series[0].values as unknown[][]).map((v) => v[0]);
    expect(names).toEqual(expect.arrayContaining(['raw', 'agg_1m', 'agg_1h']));
  });

  it('writes and reads InfluxDB over HTTPS with the configured CA, and refuses a server the CA did not sign', async () => {
    const client = app.get(InfluxClient);
    const now = Date.now();
    await client.write(`tls_check,agent_id=tls-agent value=42 ${now}`, 'raw');
    const [result] = await client.query(`SELECT value FROM "${DB}"."raw"."tls_check" WHERE agent_id = 'tls-agent'`, { db: DB, epoch: 'ms' });
    expect(result!.series![0]!.values).toEqual([[now, 42]]);

    // a body in parts (the writer's messages, sent one after the other without joining them) is one write
    const parts = [Buffer.from(`tls_parts,agent_id=tls-agent value=1 ${now}`), Buffer.from('\n'), Buffer.from(`tls_parts,agent_id=tls-agent value=2 ${now + 1}`)];
    await client.write(parts, 'raw');
    const [inParts] = await client.query(`SELECT value FROM "${DB}"."raw"."tls_parts"`, { db: DB, epoch: 'ms' });
    expect(inParts!.series![0]!.values).toEqual([
      [now, 1],
      [now + 1, 2],
    ]);

    const distrusting = new InfluxClient({ url: influxProxy.url, database: DB, tls: { ca: readPemFile(pki.otherCaCert, 'CA certificate').pem } });
    await expect(distrusting.ping()).rejects.toThrow(/InfluxDB at https:\/\/127\.0\.0\.1:\d+ is unreachable \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
    // without a CA, Node's fetch trusts only the system's CAs
    await expect(new InfluxClient({ url: influxProxy.url, database: DB }).ping()).rejects.toThrow(/unreachable/);
  });
});
