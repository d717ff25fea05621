/**
 * The gateway in-process on INTEGRATION_PORTS.gateway against the real test NATS and Redis. The auth
 * and registry services are replaced by doubles at the NATS boundary (test/fake-services.ts) that
 * sign real RS256 tokens; alerting, ingest and notification are absent, so the gateway must degrade.
 */
import type { INestApplication, INestMicroservice } from '@nestjs/common';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { io as ioClient, type Socket } from 'socket.io-client';
import { bootstrapService } from '@agentmon/http-kit';
import { createLogger } from '@agentmon/observability';
import { EventBus, encodeJson } from '@agentmon/messaging';
import { EVENTS, TelemetryLines, type EventPayloadInput, type EventSubject, type StoredPoint } from '@agentmon/contracts';
import { INTEGRATION_PORTS, TEST_INFRA } from '../../../test/support/test-env.js';
import { AppModule } from '../src/app.module.js';
import { GatewayConfigSchema } from '../src/config.js';
import { configureHttp } from '../src/http/configure-http.js';
import { RouteAccessAudit } from '../src/access/route-access.audit.js';
import { KID, newSigningKey, registerApiKey, seen, signToken, startFakeServices } from './fake-services.js';

const PORT = INTEGRATION_PORTS.gateway;
const BASE = `http://127.0.0.1:${PORT}`;
const API = `${BASE}/api/v2`;
const DASHBOARD_ORIGIN = 'http://dashboard.test';
const INGEST_KEY = 'amk_ingestOnlyKey000000000000000000000001';
const READ_KEY = 'amk_readOnlyKey00000000000000000000000001';

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: { path: string; reason: string }[];
  request_id?: string;
}

async function call(method: string, path: string, opts: { token?: string; apiKey?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.apiKey) headers['x-api-key'] = opts.apiKey;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${API}${path}`, { method, headers, ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as any };
}

describe('gateway (real NATS and Redis; auth and registry doubles on NATS)', () => {
  let gateway: INestApplication;
  let fakes: INestMicroservice;
  let nc: NatsConnection;
  const sockets: Socket[] = [];
  let viewer: string;
  let operator: string;
  let admin: string;

  beforeAll(async () => {
    fakes = await startFakeServices(TEST_INFRA.natsUrl);
    const config = GatewayConfigSchema.parse({
      PORT: String(PORT),
      HTTP_HOST: '127.0.0.1',
      NATS_URL: TEST_INFRA.natsUrl,
      REDIS_URL: TEST_INFRA.redisUrl,
      CORS_ORIGINS: DASHBOARD_ORIGIN,
      LOG_LEVEL: 'silent',
      RPC_TIMEOUT_MS: '3000',
      HEALTH_RPC_TIMEOUT_MS: '800',
      HEALTH_BROADCAST_MS: '400',
      LOGIN_MAX_PER_USER: '3',
      // every run logs in from 127.0.0.1; keep the per-ip limit out of the way of reruns
      LOGIN_MAX_PER_IP: '100000',
    });
    const logger = createLogger('gateway-test', (process.env.TEST_LOG_LEVEL as 'warn') ?? 'silent');
    gateway = await bootstrapService({
      service: 'gateway',
      module: AppModule.forRoot(config, logger),
      logger,
      port: config.PORT,
      host: config.HTTP_HOST,
      natsUrl: config.NATS_URL,
      rpc: false,
      configure: (app) => configureHttp(app, config),
    });
    nc = await connect({ servers: TEST_INFRA.natsUrl });
    viewer = await signToken({ role: 'viewer' });
    operator = await signToken({ role: 'operator' });
    admin = await signToken({ role: 'admin' });
    registerApiKey(INGEST_KEY, { user_id: 'user-operator', username: 'agent-pusher', role: 'operator', permissions: ['ingest:write'] });
    registerApiKey(READ_KEY, { user_id: 'user-viewer', username: 'ci-reader', role: 'viewer', permissions: ['read'] });
  }, 30_000);

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await nc?.close();
    await gateway?.close();
    await fakes?.close();
  });

  describe('authentication', () => {
    it('answers 401 with the contract error body without credentials', async () => {
      const res = await call('GET', '/agents');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
      expect(typeof res.body.message).toBe('string');
      expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
    });

    it('refuses a token signed by another key under the same kid (forged)', async () => {
      const other = await newSigningKey(KID);
      const forged = await signToken({ role: 'admin', key: other.privateKey });
      const res = await call('GET', '/agents', { token: forged });
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('access token is not valid');
    });

    it('refuses a token naming a key the JWKS does not have', async () => {
      const other = await newSigningKey('someone-elses-key');
      const res = await call('GET', '/agents', { token: await signToken({ role: 'admin', key: other.privateKey, kid: 'someone-elses-key' }) });
      expect(res.status).toBe(401);
      expect(res.body.message).toMatch(/unknown key/);
    });

    it('refuses an expired token', async () => {
      const res = await call('GET', '/agents', { token: await signToken({ role: 'viewer', expiresInSeconds: -120 }) });
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('access token has expired');
    });

    it('refuses a token for another audience or issuer, and garbage', async () => {
      for (const token of [await signToken({ role: 'viewer', audience: 'elsewhere' }), await signToken({ role: 'viewer', issuer: 'evil' }), 'not-a-jwt']) {
        const res = await call('GET', '/agents', { token });
        expect(res.status).toBe(401);
      }
      const malformed = await fetch(`${API}/agents`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
      expect(malformed.status).toBe(401);
    });

    it('accepts API keys as Bearer and as X-API-Key, and refuses unknown ones', async () => {
      expect((await call('GET', '/agents', { token: READ_KEY })).status).toBe(200);
      expect((await call('GET', '/agents', { apiKey: READ_KEY })).status).toBe(200);
      const unknown = await call('GET', '/agents', { apiKey: 'amk_doesNotExist00000000000000000000000001' });
      expect(unknown.status).toBe(401);
      expect(unknown.body.message).toBe('API key is not valid');
    });

    it('logout revokes the session: the same token then gets 401', async () => {
      const token = await signToken({ role: 'operator', sid: 'sess-logout-test' });
      expect((await call('GET', '/users/profile', { token })).status).toBe(200);
      const out = await call('POST', '/auth/logout', { token });
      expect(out.status).toBe(204);
      expect(seen.logouts.at(-1)).toMatchObject({ kind: 'user', session_id: 'sess-logout-test', role: 'operator' });
      const after = await call('GET', '/users/profile', { token });
      expect(after.status).toBe(401);
      expect(after.body.message).toMatch(/session/);
    });

    it('login is public and passes the client ip and user agent to auth', async () => {
      const username = `ana-${crypto.randomUUID().slice(0, 8)}`;
      const res = await call('POST', '/auth/login', { body: { username, password: 'correct horse battery' }, headers: { 'user-agent': 'int-test/1.0' } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, refresh_token: 'amr_opaque' });
      expect(seen.logins.at(-1)).toMatchObject({ username, user_agent: 'int-test/1.0', ip: expect.stringMatching(/127\.0\.0\.1/) });
      // the token it answered works
      expect((await call('GET', '/agents', { token: res.body.access_token })).status).toBe(200);
      const wrong = await call('POST', '/auth/login', { body: { username, password: 'nope' } });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({ statusCode: 401, message: 'wrong username or password' });
    });

    it('limits login attempts per username (Redis) with 429 and Retry-After', async () => {
      const username = `mallory-${crypto.randomUUID().slice(0, 8)}`;
      for (let i = 0; i < 3; i++) expect((await call('POST', '/auth/login', { body: { username, password: 'guess' } })).status).toBe(401);
      const limited = await call('POST', '/auth/login', { body: { username, password: 'correct horse battery' } });
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      // another user from the same address is not affected
      expect((await call('POST', '/auth/login', { body: { username: `${username}-2`, password: 'correct horse battery' } })).status).toBe(200);
    });

    it('serves the JWKS publicly', async () => {
      const res = await call('GET', '/auth/jwks');
      expect(res.status).toBe(200);
      expect(res.body.keys).toEqual([expect.objectContaining({ kid: KID, kty: 'RSA', alg: 'RS256' })]);
      expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    });
  });

  describe('authorization', () => {
    it('403 for a viewer on a write route, 201 for an operator with the principal passed on', async () => {
      const denied = await call('POST', '/agents', { token: viewer, body: { id: 'agent-new' } });
      expect(denied.status).toBe(403);
      expect(denied.body).toMatchObject({ statusCode: 403, error: 'Forbidden', message: "this needs the 'write' permission" });
      const created = await call('POST', '/agents', { token: operator, body: { id: 'agent-new', name: 'New agent' } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ id: 'agent-new', name: 'New agent', status: 'online' });
      expect(seen.agentCreates.at(-1)?.principal).toMatchObject({
        kind: 'user',
        username: 'operator-user',
        role: 'operator',
        permissions: ['read', 'write', 'ingest:write'],
        ip: expect.stringMatching(/127\.0\.0\.1/),
      });
    });

    it('403 for an ingest-only key on a read route', async () => {
      const res = await call('GET', '/agents', { apiKey: INGEST_KEY });
      expect(res.status).toBe(403);
      expect(res.body.message).toBe("this needs the 'read' permission");
    });

    it('keeps users and the audit log for admins', async () => {
      expect((await call('GET', '/users', { token: viewer })).status).toBe(403);
      expect((await call('GET', '/users', { token: operator })).status).toBe(403);
      expect((await call('GET', '/audit-logs', { token: operator })).status).toBe(403);
      const users = await call('GET', '/users?limit=10', { token: admin });
      expect(users.status).toBe(200);
      expect(users.body).toEqual({ items: [expect.objectContaining({ username: 'admin-user', role: 'admin' })], next_cursor: null });
    });

    it('every route Nest registered declares its access', () => {
      const routes = gateway.get(RouteAccessAudit).routes();
      expect(routes.length).toBeGreaterThan(35);
      expect(routes.filter((r) => !r.access)).toEqual([]);
    });
  });

  describe('routes', () => {
    it('lists agents with {items, next_cursor} and passes the parsed query on', async () => {
      const res = await call('GET', '/agents?status=online&tag=env:prod&q=plan&limit=5', { token: viewer });
      expect(res.status).toBe(200);
      expect(res.body.next_cursor).toBe('opaque-next');
      expect(res.body.items).toHaveLength(2);
      expect(res.body.items[0]).toEqual({
        id: 'agent-7',
        name: 'Agent agent-7',
        type: 'llm-agent',
        version: '1.4.2',
        host: 'node-3',
        region: 'eu-west-1',
        status: 'online',
        last_seen: expect.any(String),
        tags: { env: 'prod' },
        groups: [],
        config_version: null,
        created_at: expect.any(String),
      });
      expect(seen.agentListQueries.at(-1)).toEqual({ status: 'online', tag: 'env:prod', q: 'plan', limit: 5 });
    });

    it('400 naming each bad query field', async () => {
      const res = await call('GET', '/agents?status=sleeping&limit=0', { token: viewer });
      expect(res.status).toBe(400);
      expect(res.body.statusCode).toBe(400);
      expect(res.body.details.map((d: { path: string }) => d.path).sort()).toEqual(['query.limit', 'query.status']);
    });

    it('400 naming a bad path parameter and a bad body field', async () => {
      const badId = await call('GET', `/agents/${encodeURIComponent('has space')}`, { token: viewer });
      expect(badId.status).toBe(400);
      expect(badId.body.details[0].path).toBe('id');
      const badBody = await call('POST', '/agents', { token: operator, body: { id: 'ok-id', tags: 'not-an-object' } });
      expect(badBody.status).toBe(400);
      expect(badBody.body.details[0].path).toBe('tags');
      const notJson = await call('POST', '/agents', { token: operator, body: '{"id": ' });
      expect(notJson.status).toBe(400);
      expect(notJson.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    });

    it('maps the owner’s 404 and parses audit times', async () => {
      const missing = await call('GET', '/agents/agent-404', { token: viewer });
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ statusCode: 404, error: 'Not Found', message: 'agent agent-404 not found' });
      const audit = await call('GET', '/audit-logs?from=2026-01-01T00:00:00Z&to=1798761600000&action=login', { token: admin });
      expect(audit.status).toBe(200);
      expect(seen.auditQueries.at(-1)?.query).toEqual({ from: Date.parse('2026-01-01T00:00:00Z'), to: 1798761600000, action: 'login', limit: 100 });
      const backwards = await call('GET', '/audit-logs?from=1798761600000&to=2026-01-01T00:00:00Z', { token: admin });
      expect(backwards.status).toBe(400);
      expect(backwards.body.details[0].path).toBe('query.from');
      const notATime = await call('GET', '/metrics/historical/agent-7?from=yesterday', { token: viewer });
      expect(notATime.status).toBe(400);
      expect(notATime.body.details[0].path).toBe('query.from');
    });

    it('answers 404 with a JSON body for unknown routes and for routes not built yet', async () => {
      for (const path of ['/no-such-thing', '/agent-groups', '/incidents']) {
        const res = await call('GET', path, { token: admin });
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
      }
      for (const url of [`${BASE}/nowhere`, `${BASE}/api/v1/agents`, `${BASE}/api/docs/no-such-asset.js`]) {
        const res = await fetch(url);
        expect(res.status).toBe(404);
        expect(res.headers.get('content-type')).toMatch(/application\/json/);
        expect(await res.json()).toMatchObject({ statusCode: 404, error: 'Not Found' });
      }
    });

    it('answers 503 when the owning service is not running', async () => {
      const res = await call('GET', '/alerts/rules', { token: viewer });
      // nothing answers rpc.alerting.* in this test (unless another test runs an alerting service at the same time)
      if (res.status !== 200) {
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('5');
        expect(res.body.message).toMatch(/alerting/);
      }
    });

    it('dashboard overview degrades with nulls when services are down', async () => {
      const res = await call('GET', '/dashboard/overview', { token: viewer });
      expect(res.status).toBe(200);
      expect(res.body.agents).toEqual({ total: 12, online: 9, offline: 2, degraded: 1 });
      expect(res.body).toHaveProperty('alerts');
      expect(res.body).toHaveProperty('ingest');
      if (res.body.ingest === null) expect(res.body.unavailable).toContain('ingest');
      expect(typeof res.body.generated_at).toBe('string');
    });

    it('system health needs read and reports every service and dependency', async () => {
      expect((await call('GET', '/system/health')).status).toBe(401);
      expect((await call('GET', '/system/health', { apiKey: INGEST_KEY })).status).toBe(403);
      const res = await call('GET', '/system/health', { token: viewer });
      expect(res.status).toBe(200);
      expect(['ok', 'degraded', 'down']).toContain(res.body.status);
      expect(Object.keys(res.body.services).sort()).toEqual(['alerting', 'auth', 'gateway', 'ingest', 'notification', 'registry']);
      expect(res.body.services.gateway).toMatchObject({ status: 'ok', latency_ms: expect.any(Number) });
      expect(res.body.services.registry).toMatchObject({ status: 'ok', latency_ms: expect.any(Number) });
      expect(res.body.services.auth).toMatchObject({ status: 'ok' });
      expect(Object.keys(res.body.dependencies).sort()).toEqual(['influxdb', 'nats', 'postgres', 'redis']);
      expect(res.body.dependencies.redis.status).toBe('ok');
      expect(res.body.dependencies.nats.status).toBe('ok');
      expect(res.body.dependencies.postgres.status).toBe('ok');
    });
  });

  describe('HTTP hardening', () => {
    it('sets security headers on every answer, errors included', async () => {
      for (const res of [await fetch(`${API}/agents`), await fetch(`${API}/auth/jwks`), await fetch(`${BASE}/health/live`)]) {
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('x-frame-options')).toBe('DENY');
        expect(res.headers.get('referrer-policy')).toBe('no-referrer');
        expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
        expect(res.headers.get('x-powered-by')).toBeNull();
      }
    });

    it('allows CORS for the dashboard origin only', async () => {
      const pre = (origin: string) =>
        fetch(`${API}/agents`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
      const ok = await pre(DASHBOARD_ORIGIN);
      expect(ok.headers.get('access-control-allow-origin')).toBe(DASHBOARD_ORIGIN);
      const evil = await pre('http://evil.test');
      expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('refuses bodies over 1 MiB with 413 JSON', async () => {
      const res = await call('POST', '/auth/login', { body: { username: 'a', password: 'x'.repeat(1024 * 1024 + 10) } });
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    });

    it('serves OpenAPI JSON and the Swagger UI from this origin only', async () => {
      const doc = await fetch(`${BASE}/api/docs-json`);
      expect(doc.status).toBe(200);
      const json = (await doc.json()) as { openapi: string; paths: Record<string, unknown>; components: { securitySchemes: object } };
      expect(json.openapi).toBe('3.1.0');
      expect(json.paths).toHaveProperty('/api/v2/agents');
      expect(json.paths).toHaveProperty('/api/v2/metrics/historical/{agent_id}');
      expect(json.components.securitySchemes).toHaveProperty('bearer');
      const ui = await fetch(`${BASE}/api/docs`);
      expect(ui.status).toBe(200);
      const html = await ui.text();
      expect(html).toContain('swagger-ui-bundle.js');
      expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
      expect(ui.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
      const asset = await fetch(`${BASE}/api/docs/swagger-ui-bundle.js`);
      expect(asset.status).toBe(200);
    });
  });

  describe('socket.io /ws/dashboard', () => {
    const open = (auth: Record<string, unknown> | undefined, extraHeaders?: Record<string, string>) => {
      const s = ioClient(BASE, { path: '/ws/dashboard', transports: ['websocket'], reconnection: false, ...(auth ? { auth } : {}), ...(extraHeaders ? { extraHeaders } : {}) });
      sockets.push(s);
      return s;
    };
    const outcome = (s: Socket) =>
      new Promise<{ connected: true } | { connected: false; message: string; data?: ErrorBody }>((resolve) => {
        s.once('connect', () => resolve({ connected: true }));
        s.once('connect_error', (err: Error & { data?: ErrorBody }) => resolve({ connected: false, message: err.message, ...(err.data ? { data: err.data } : {}) }));
      });
    const next = <T>(s: Socket, event: string, ms = 5000) =>
      new Promise<T>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
        s.once(event, (payload: T) => {
          clearTimeout(t);
          resolve(payload);
        });
      });
    const publish = <S extends Exclude<EventSubject, 'evt.ingest.telemetry.lines.v1' | 'evt.ingest.telemetry.lines.br.v1'>>(subject: S, payload: EventPayloadInput<S>) => {
      // a plain NATS publish on the event subject: live subscribers get it whether or not a stream captures it
      nc.publish(subject, encodeJson(EVENTS[subject].schema.parse(payload)));
    };
    /** Telemetry as ingest publishes it: the points as lines, or (large batches) the lines compressed. */
    const publishLines = (points: StoredPoint[], compressed = false) => {
      const lines = TelemetryLines.fromPoints(points);
      if (compressed) nc.publish('evt.ingest.telemetry.lines.br.v1', lines.compressed);
      else nc.publish('evt.ingest.telemetry.lines.v1', lines.data);
      return lines.data.length;
    };

    it('refuses a connection without a token', async () => {
      const r = await outcome(open(undefined));
      expect(r).toMatchObject({ connected: false, data: { statusCode: 401 } });
    });

    it('refuses a forged token and an ingest-only key', async () => {
      const other = await newSigningKey(KID);
      expect(await outcome(open({ token: await signToken({ role: 'admin', key: other.privateKey }) }))).toMatchObject({ connected: false, data: { statusCode: 401 } });
      expect(await outcome(open({ token: INGEST_KEY }))).toMatchObject({ connected: false, data: { statusCode: 403 } });
    });

    it('refuses a browser origin other than the dashboard', async () => {
      const r = await outcome(open({ token: viewer }, { Origin: 'http://evil.test' }));
      expect(r.connected).toBe(false);
    });

    it('accepts a token, and delivers new_metrics_data only for subscribed agents', async () => {
      const s = open({ token: viewer }, { Origin: DASHBOARD_ORIGIN });
      expect(await outcome(s)).toEqual({ connected: true });

      const bad = await s.emitWithAck('subscribe', { agent_ids: ['bad id'] });
      expect(bad).toMatchObject({ ok: false, error: { statusCode: 400, details: [{ path: 'agent_ids[0]' }] } });
      const ack = await s.emitWithAck('subscribe', { agent_ids: ['agent-7'] });
      expect(ack).toEqual({ ok: true, agent_ids: ['agent-7'] });

      const received: { agent_id: string }[] = [];
      s.on('new_metrics_data', (m: { agent_id: string }) => received.push(m));
      const first = next<{ agent_id: string; measurement: string; fields: Record<string, unknown>; time: string }>(s, 'new_metrics_data');
      const t = Date.parse('2026-11-27T12:00:00.000Z');
      publishLines([
        { agent_id: 'agent-8', measurement: 'agent_metrics', tags: {}, fields: { cpu_usage: 1 }, time: t },
        { agent_id: 'agent-7', measurement: 'agent_metrics', tags: { core: 'all' }, fields: { cpu_usage: 45.2, memory_usage: 67.3, state: 'busy' }, time: t },
      ]);
      expect(await first).toEqual({
        agent_id: 'agent-7',
        measurement: 'agent_metrics',
        fields: { cpu_usage: 45.2, memory_usage: 67.3, state: 'busy' },
        tags: { core: 'all' },
        time: '2026-11-27T12:00:00.000Z',
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(received.map((m) => m.agent_id)).toEqual(['agent-7']);

      // lines that travel compressed, as ingest stores large batches
      const compressed = next<{ agent_id: string; fields: Record<string, unknown> }>(s, 'new_metrics_data');
      publishLines([{ agent_id: 'agent-7', measurement: 'agent_metrics', tags: {}, fields: { cpu_usage: 46 }, time: t + 1000 }], true);
      expect(await compressed).toMatchObject({ agent_id: 'agent-7', fields: { cpu_usage: 46 } });

      // status changes and alerts reach every socket
      const status = next(s, 'agent_status_changed');
      publish('evt.registry.agent.status-changed.v1', { agent_id: 'agent-9', from: 'online', to: 'offline', at: new Date().toISOString() });
      expect(await status).toMatchObject({ agent_id: 'agent-9', from: 'online', to: 'offline' });

      const firedAlert = {
        id: 'alert-1',
        rule_id: 'rule-1',
        rule_name: 'CPU hot',
        agent_id: 'agent-7',
        status: 'firing' as const,
        severity: 'critical' as const,
        value: 97,
        threshold: 90,
        summary: 'cpu_usage 97 > 90',
        labels: {},
        started_at: new Date().toISOString(),
        fired_at: new Date().toISOString(),
        resolved_at: null,
        acknowledged_by: null,
        acknowledged_at: null,
      };
      const rule = { id: 'rule-1', name: 'CPU hot', channels: [], condition: { type: 'threshold' } };
      const fired = next<{ alert: { id: string; status: string } }>(s, 'alert_triggered');
      publish('evt.alerting.alert.fired.v1', { alert: firedAlert, rule });
      expect(await fired).toEqual({ alert: firedAlert });
      const resolved = next<{ alert: { id: string; status: string } }>(s, 'alert_resolved');
      publish('evt.alerting.alert.resolved.v1', { alert: { ...firedAlert, status: 'resolved', resolved_at: new Date().toISOString() }, rule });
      expect((await resolved).alert).toMatchObject({ id: 'alert-1', status: 'resolved' });

      const health = await next<{ status: string; services: Record<string, unknown> }>(s, 'system_health_update', 5000);
      expect(['ok', 'degraded', 'down']).toContain(health.status);
      expect(health.services).toHaveProperty('registry');

      expect(await s.emitWithAck('unsubscribe', { agent_ids: ['agent-7'] })).toEqual({ ok: true, agent_ids: [] });
      s.disconnect();
    });

    it('follows telemetry on NATS only while some socket follows an agent', async () => {
      const gatewayBus = gateway.get(EventBus);
      const t = Date.parse('2026-11-27T12:00:00.000Z');
      const points: StoredPoint[] = Array.from({ length: 5_000 }, (_, i) => ({ agent_id: 'agent-big', measurement: 'agent_metrics', tags: {}, fields: { cpu_usage: i }, time: t + i }));
      /** Publishes one large batch of lines; answers whether the gateway's NATS connection received it. */
      const delivered = async () => {
        await gatewayBus.ping(); // the gateway's own (un)subscriptions have reached NATS
        const before = gatewayBus.nc.stats().inBytes;
        const size = publishLines(points);
        await nc.flush(); // NATS has routed it
        await gatewayBus.ping(); // and the gateway has read everything routed before its answer
        return gatewayBus.nc.stats().inBytes - before >= size;
      };

      expect(await delivered()).toBe(false); // nobody follows an agent

      const a = open({ token: viewer });
      const b = open({ token: viewer });
      expect(await outcome(a)).toEqual({ connected: true });
      expect(await outcome(b)).toEqual({ connected: true });
      expect(await a.emitWithAck('subscribe', { agent_ids: ['agent-big'] })).toEqual({ ok: true, agent_ids: ['agent-big'] });
      const firstPoint = next<{ agent_id: string; fields: Record<string, unknown> }>(a, 'new_metrics_data');
      expect(await delivered()).toBe(true);
      expect(await firstPoint).toMatchObject({ agent_id: 'agent-big', fields: { cpu_usage: 0 } });

      // one socket still follows an agent: the subscription stays
      expect(await b.emitWithAck('subscribe', { agent_ids: ['agent-other'] })).toEqual({ ok: true, agent_ids: ['agent-other'] });
      expect(await a.emitWithAck('unsubscribe', { agent_ids: ['agent-big'] })).toEqual({ ok: true, agent_ids: [] });
      expect(await delivered()).toBe(true);

      // the last one leaves by disconnecting
      b.disconnect();
      for (let tries = 0; await delivered(); tries++) {
        if (tries === 50) throw new Error('the gateway still receives telemetry after its last socket left');
        await new Promise((r) => setTimeout(r, 100));
      }

      // and following again subscribes again
      expect(await a.emitWithAck('subscribe', { agent_ids: ['agent-big'] })).toEqual({ ok: true, agent_ids: ['agent-big'] });
      expect(await delivered()).toBe(true);
      a.disconnect();
    });

    it('accepts an API key with read', async () => {
      const s = open({ token: READ_KEY });
      expect(await outcome(s)).toEqual({ connected: true });
      s.disconnect();
    });
  });
});
