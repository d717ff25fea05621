/**
 * The gateway with TLS everywhere, against real servers that demand it: HTTPS (and so wss:// for
 * socket.io) on its port with a certificate of a throwaway CA made by openssl, NATS with JetStream
 * (nats-server with a tls block, client certificates required) and Redis (redis-server --tls-port,
 * client certificates required). The configuration goes through the gateway's own schema.
 */
import { execFile } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { promisify } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { io as ioClient, type Socket } from 'socket.io-client';
import { natsTls, readPemFile, redisTlsOptions, serverTls, tlsConfigProblems } from '@agentmon/config';
import { bootstrapService } from '@agentmon/http-kit';
import { createLogger } from '@agentmon/observability';
import { INTEGRATION_PORTS } from '../../../test/support/test-env.js';
import { httpsGet, makeTestPki, type TestPki } from '../../../test/support/tls.js';
import { startTlsNats, startTlsRedis, type RunningServer } from '../../../test/support/tls-servers.js';
import { AppModule } from '../src/app.module.js';
import { GatewayConfigSchema } from '../src/config.js';
import { configureHttp } from '../src/http/configure-http.js';

// its own port: the other gateway test file may run at the same time
const PORT = INTEGRATION_PORTS.gateway + 20;
const BASE = `https://127.0.0.1:${PORT}`;

/** PING on a raw socket (TLS with these options, or plain TCP): the reply line, or how it failed. */
function redisPing(port: number, opts: { ca: string; cert?: string; key?: string } | undefined): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = opts ? tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...opts }) : net.connect(port, '127.0.0.1');
    const finish = (what: string) => {
      socket.destroy();
      resolve(what);
    };
    socket.setTimeout(3_000, () => finish('timeout'));
    socket.on(opts ? 'secureConnect' : 'connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => {
      reply += d.toString();
      if (reply.includes('\r\n')) finish(reply.split('\r\n')[0]!);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish(`error ${err.code ?? err.message}`));
    socket.on('close', () => finish('closed'));
  });
}

describe('gateway over TLS (HTTPS, socket.io over wss, NATS and Redis with client certificates)', () => {
  let pki: TestPki;
  let nats: RunningServer;
  let redis: RunningServer;
  let gateway: INestApplication;
  const sockets: Socket[] = [];
  // a copy of the server certificate that the test replaces to renew it
  let certFile: string;
  let keyFile: string;

  beforeAll(async () => {
    pki = makeTestPki('agentmon-gateway-tls-');
    certFile = `${pki.dir}/served.crt`;
    keyFile = `${pki.dir}/served.key`;
    copyFileSync(pki.serverCert, certFile);
    copyFileSync(pki.serverKey, keyFile);
    [nats, redis] = await Promise.all([startTlsNats(pki), startTlsRedis(pki)]);
    const config = GatewayConfigSchema.parse({
      PORT: String(PORT),
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      TLS_CERT_FILE: certFile,
      TLS_KEY_FILE: keyFile,
      NATS_URL: nats.url,
      NATS_TLS_CA_FILE: pki.caCert,
      NATS_TLS_CERT_FILE: pki.clientCert,
      NATS_TLS_KEY_FILE: pki.clientKey,
      REDIS_URL: redis.url,
      REDIS_CA_FILE: pki.caCert,
      REDIS_CERT_FILE: pki.clientCert,
      REDIS_KEY_FILE: pki.clientKey,
      HEALTH_BROADCAST_MS: '60000',
    });
    expect(tlsConfigProblems(config)).toEqual([]);
    const logger = createLogger('gateway-tls-test', (process.env.TEST_LOG_LEVEL as 'warn') ?? 'silent');
    gateway = await bootstrapService({
      service: 'gateway',
      module: AppModule.forRoot(config, logger),
      logger,
      port: config.PORT,
      host: config.HTTP_HOST,
      natsUrl: config.NATS_URL,
      natsTls: natsTls(config),
      https: serverTls(config),
      certificateReloadMs: 200,
      rpc: false,
      configure: (app) => configureHttp(app, config),
    });
  }, 60_000);

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await gateway?.close();
    await Promise.all([nats?.stop(), redis?.stop()]);
    pki?.remove();
  });

  it('answers /health/ready over HTTPS to a client that trusts the CA, with Redis and NATS reached over TLS', async () => {
    const res = await httpsGet(`${BASE}/health/ready`, pki.read(pki.caCert));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ service: 'gateway', status: 'ok', checks: { redis: { status: 'ok' }, nats: { status: 'ok' } } });
  });

  it('is refused by a client that does not trust the CA, and speaks no plain HTTP', async () => {
    await expect(httpsGet(`${BASE}/health/ready`, pki.read(pki.otherCaCert))).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    // Node's fetch trusts only the system's CAs
    await expect(fetch(`${BASE}/health/live`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${PORT}/health/live`)).rejects.toThrow();
  });

  it('lets another Node process (the dashboard server) trust the CA through NODE_EXTRA_CA_CERTS', async () => {
    const run = promisify(execFile);
    const script = `fetch(${JSON.stringify(`${BASE}/health/ready`)}).then((r) => process.stdout.write(String(r.status)), (e) => process.stdout.write('failed: ' + (e.cause?.code ?? e.message)))`;
    const trusted = await run(process.execPath, ['-e', script], { env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: pki.caCert } });
    expect(trusted.stdout).toBe('200');
    const untrusted = await run(process.execPath, ['-e', script], { env: { PATH: process.env.PATH } });
    expect(untrusted.stdout).toMatch(/^failed/);
  });

  it('serves socket.io on wss:// on the same port (the handshake reaches the gateway, which asks for credentials)', async () => {
    const attempt = (ca: string) =>
      new Promise<{ connected: boolean; message: string; status?: number }>((resolve) => {
        const s = ioClient(BASE, { path: '/ws/dashboard', transports: ['websocket'], reconnection: false, ca });
        sockets.push(s);
        s.once('connect', () => resolve({ connected: true, message: '' }));
        s.once('connect_error', (err: Error & { data?: { statusCode?: number } }) =>
          resolve({ connected: false, message: err.message, ...(err.data?.statusCode ? { status: err.data.statusCode } : {}) }),
        );
      });
    const trusted = await attempt(pki.read(pki.caCert));
    expect(trusted).toMatchObject({ connected: false, status: 401 });
    expect(trusted.message).toMatch(/authentication required/);
    const untrusted = await attempt(pki.read(pki.otherCaCert));
    expect(untrusted.connected).toBe(false);
    expect(untrusted.status).toBeUndefined(); // never reached the gateway
  });

  it('needs TLS with a client certificate of the CA at NATS and Redis, so the readiness above was over TLS', async () => {
    const ca = pki.read(pki.caCert);
    const refused = (tls: Record<string, string>) => connect({ servers: nats.url, tls, timeout: 3_000, reconnect: false });
    await expect(refused({ ca })).rejects.toThrow(); // no client certificate
    await expect(refused({ ca: pki.read(pki.otherCaCert), cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey) })).rejects.toThrow();
    const nc = await connect({ servers: nats.url, tls: natsTls({ NATS_URL: nats.url, NATS_TLS_CA_FILE: readPemFile(pki.caCert, 'CA certificate'), NATS_TLS_CERT_FILE: readPemFile(pki.clientCert, 'certificate'), NATS_TLS_KEY_FILE: readPemFile(pki.clientKey, 'private key') })! });
    await nc.flush();
    await nc.close();

    // raw sockets for the refusals (a refused ioredis client leaves a timer behind for seconds)
    expect(await redisPing(redis.port, { ca: pki.read(pki.otherCaCert), cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey) })).toMatch(/^error (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)$/); // Redis sends its CA along; not trusted either way
    expect(await redisPing(redis.port, { ca })).toMatch(/^(error|closed)/); // no client certificate
    expect(await redisPing(redis.port, undefined)).toMatch(/^(error|closed)/); // plain TCP
    expect(await redisPing(redis.port, { ca, cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey) })).toBe('+PONG');
    const good = new Redis(redis.url, { lazyConnect: true, ...redisTlsOptions({ REDIS_URL: redis.url, REDIS_CA_FILE: readPemFile(pki.caCert, 'CA certificate'), REDIS_CERT_FILE: readPemFile(pki.clientCert, 'certificate'), REDIS_KEY_FILE: readPemFile(pki.clientKey, 'private key') }) });
    await good.connect();
    expect(await good.ping()).toBe('PONG');
    await good.quit();
  });

  it('serves a renewed certificate once its files change, without a restart', async () => {
    const ca = pki.read(pki.caCert);
    const before = await httpsGet(`${BASE}/health/live`, ca);
    const renewed = pki.issueServerCert('renewed');
    copyFileSync(renewed.key, keyFile);
    copyFileSync(renewed.cert, certFile);
    const want = readPemFile(renewed.cert, 'certificate');
    const { X509Certificate } = await import('node:crypto');
    const serial = new X509Certificate(want.pem).serialNumber;
    expect(serial).not.toBe(before.serial);
    const deadline = Date.now() + 10_000;
    let now = before;
    while (now.serial !== serial && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      now = await httpsGet(`${BASE}/health/live`, ca);
    }
    expect(now.serial).toBe(serial);
    expect(now.status).toBe(200);
  });
});
