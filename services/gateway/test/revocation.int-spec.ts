/**
 * Revocation at once on every replica: two gateways in-process against the real test NATS and Redis,
 * each with session and API key caches that would otherwise hold answers for ten minutes. The auth
 * double (test/fake-services.ts) announces revocations on JetStream as auth does; a logout, a key
 * revocation or a deactivation through one gateway is refused by the other right after, well within
 * the event's delivery and nowhere near the cache time.
 */
import type { INestApplication, INestMicroservice } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { io as ioClient, type Socket } from 'socket.io-client';
import { bootstrapService } from '@agentmon/http-kit';
import { createLogger } from '@agentmon/observability';
import { TEST_INFRA } from '../../../test/support/test-env.js';
import { AppModule } from '../src/app.module.js';
import { GatewayConfigSchema } from '../src/config.js';
import { configureHttp } from '../src/http/configure-http.js';
import { registerApiKey, seen, signToken, startFakeServices } from './fake-services.js';

const TEN_MINUTES = String(10 * 60_000);
/** The longest a revocation may take to reach the other replica in this test (event delivery, not cache expiry). */
const DELIVERY_MS = 1000;

async function startGateway(): Promise<{ app: INestApplication; base: string }> {
  const config = GatewayConfigSchema.parse({
    // each replica listens on a free port (0, given to bootstrapService below)
    HTTP_HOST: '127.0.0.1',
    NATS_URL: TEST_INFRA.natsUrl,
    REDIS_URL: TEST_INFRA.redisUrl,
    LOG_LEVEL: 'silent',
    RPC_TIMEOUT_MS: '3000',
    SESSION_CACHE_MS: TEN_MINUTES,
    API_KEY_CACHE_MS: TEN_MINUTES,
    LOGIN_MAX_PER_IP: '100000',
  });
  const logger = createLogger('gateway-revocation-test', (process.env.TEST_LOG_LEVEL as 'warn') ?? 'silent');
  const app = await bootstrapService({
    service: 'gateway',
    module: AppModule.forRoot(config, logger),
    logger,
    port: 0,
    host: config.HTTP_HOST,
    natsUrl: config.NATS_URL,
    rpc: false,
    configure: (a) => configureHttp(a, config),
  });
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  return { app, base: `http://127.0.0.1:${port}` };
}

async function status(base: string, path: string, opts: { token?: string; method?: string; body?: unknown } = {}): Promise<number> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}/api/v2${path}`, { method: opts.method ?? 'GET', headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  await res.arrayBuffer();
  return res.status;
}

/** Polls until the status is reached; fails after DELIVERY_MS. Returns how long it took. */
async function refusedWithin(base: string, path: string, token: string, expected = 401): Promise<number> {
  const started = Date.now();
  for (;;) {
    const st = await status(base, path, { token });
    if (st === expected) return Date.now() - started;
    if (Date.now() - started > DELIVERY_MS) throw new Error(`${path} still answers ${st} ${DELIVERY_MS} ms after the revocation`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('revocation reaches every gateway replica at once (evt.auth.revoked.v1)', () => {
  let fakes: INestMicroservice;
  let a: { app: INestApplication; base: string };
  let b: { app: INestApplication; base: string };
  const sockets: Socket[] = [];

  beforeAll(async () => {
    fakes = await startFakeServices(TEST_INFRA.natsUrl);
    a = await startGateway();
    b = await startGateway();
  }, 30_000);

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await a?.app.close();
    await b?.app.close();
    await fakes?.close();
  });

  it('a logout through one replica ends the session on the other, whose cache was warm', async () => {
    const token = await signToken({ role: 'viewer', sid: `sess-${crypto.randomUUID()}` });
    expect(await status(a.base, '/agents', { token })).toBe(200);
    expect(await status(b.base, '/agents', { token })).toBe(200);
    const checks = seen.sessionChecks;
    expect(await status(b.base, '/agents', { token })).toBe(200);
    expect(seen.sessionChecks).toBe(checks); // answered from B's cache: only the announcement can end it there

    expect(await status(a.base, '/auth/logout', { token, method: 'POST' })).toBe(204);
    expect(await status(a.base, '/agents', { token })).toBe(401); // the replica that logged out: at once
    expect(await refusedWithin(b.base, '/agents', token)).toBeLessThan(DELIVERY_MS);
  });

  it('drops the other replica’s live socket of that session at once', async () => {
    const token = await signToken({ role: 'viewer', sid: `sess-${crypto.randomUUID()}` });
    const socket = ioClient(b.base, { path: '/ws/dashboard', transports: ['websocket'], auth: { token }, reconnection: false });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.on('connect', resolve);
      socket.on('connect_error', reject);
    });
    const expired = new Promise<{ message: string }>((resolve) => socket.on('session_expired', resolve));
    expect(await status(a.base, '/auth/logout', { token, method: 'POST' })).toBe(204);
    const started = Date.now();
    await expect(expired).resolves.toEqual({ message: 'credentials revoked' });
    expect(Date.now() - started).toBeLessThan(DELIVERY_MS);
  });

  it('a key revoked through one replica is refused by the other, whose cache was warm', async () => {
    const key = `amk_${crypto.randomUUID().replaceAll('-', '')}`;
    const keyId = crypto.randomUUID();
    registerApiKey(key, { id: keyId, user_id: 'user-ci', username: 'ci', role: 'operator', permissions: ['read', 'write'] });
    expect(await status(a.base, '/agents', { token: key })).toBe(200);
    expect(await status(b.base, '/agents', { token: key })).toBe(200);
    const verifications = seen.keyVerifications;
    expect(await status(b.base, '/agents', { token: key })).toBe(200);
    expect(seen.keyVerifications).toBe(verifications);

    expect(await status(a.base, `/api-keys/${keyId}`, { token: key, method: 'DELETE' })).toBe(204);
    expect(await status(a.base, '/agents', { token: key })).toBe(401);
    expect(await refusedWithin(b.base, '/agents', key)).toBeLessThan(DELIVERY_MS);
  });

  it('deactivating a user through one replica ends their sessions and keys on the other', async () => {
    const userId = `user-${crypto.randomUUID()}`;
    const token = await signToken({ role: 'operator', sub: userId, sid: `sess-${crypto.randomUUID()}` });
    const key = `amk_${crypto.randomUUID().replaceAll('-', '')}`;
    registerApiKey(key, { user_id: userId, username: 'soon-gone', role: 'operator', permissions: ['read'] });
    const bystander = await signToken({ role: 'viewer', sid: `sess-${crypto.randomUUID()}` });
    for (const t of [token, key, bystander]) expect(await status(b.base, '/agents', { token: t })).toBe(200);

    const admin = await signToken({ role: 'admin' });
    expect(await status(a.base, `/users/${userId}`, { token: admin, method: 'PATCH', body: { active: false } })).toBe(200);
    expect(await refusedWithin(b.base, '/agents', token)).toBeLessThan(DELIVERY_MS);
    expect(await refusedWithin(b.base, '/agents', key)).toBeLessThan(DELIVERY_MS);
    expect(await status(b.base, '/agents', { token: bystander })).toBe(200);
  });
});
