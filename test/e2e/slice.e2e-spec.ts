// The thin slice of the foundation issue, end to end through the public ports only:
// the gateway (:18000), ingest (:18001) and socket.io, with every service and real
// PostgreSQL, Redis, NATS and InfluxDB behind them.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { io, type Socket } from 'socket.io-client';
import { E2E, api, call, eventually, login } from './harness.js';

const agentId = `e2e-agent-${Date.now()}`;
let admin: { access_token: string; refresh_token: string };
let ingestKey: string;

interface Received {
  body: string;
  headers: IncomingMessage['headers'];
}
let webhook: Server;
let webhookUrl: string;
const received: Received[] = [];

beforeAll(async () => {
  webhook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`;
  admin = await login('admin', E2E.adminPassword);
});

afterAll(async () => {
  await new Promise((r) => webhook.close(r));
});

const push = (points: object[], key = ingestKey, agent: object = { id: agentId, name: 'E2E agent', type: 'llm-agent', version: '1.0.0', region: 'eu-west-1', tags: { env: 'e2e' } }) =>
  call('POST', `${E2E.ingest}/api/v2/ingest`, { token: key, body: { agent, points } });

describe('identity and access', () => {
  it('issues an access token verifiable with the JWKS, and a refresh token', async () => {
    const jwks = createRemoteJWKSet(new URL(api('/auth/jwks')));
    const { payload } = await jwtVerify(admin.access_token, jwks, { issuer: 'agentmon', audience: 'agentmon' });
    expect(payload).toMatchObject({ username: 'admin', role: 'admin' });
    const profile = await call('GET', api('/users/profile'), { token: admin.access_token });
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ username: 'admin', role: 'admin' });
  });

  it('refuses a wrong password, a missing token and a forged token', async () => {
    const wrong = await call('POST', api('/auth/login'), { body: { username: 'admin', password: 'not-the-password' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect((await call('GET', api('/agents'))).status).toBe(401);
    const [h, p] = admin.access_token.split('.');
    expect((await call('GET', api('/agents'), { token: `${h}.${p}.forgedsignature` })).status).toBe(401);
  });

  it('creates users with roles and enforces them', async () => {
    const suffix = Date.now();
    const viewer = await call('POST', api('/users'), {
      token: admin.access_token,
      body: { username: `viewer${suffix}`, email: `viewer${suffix}@example.com`, password: 'viewer-password-123', role: 'viewer' },
    });
    expect(viewer.status).toBe(201);
    expect(viewer.body).toMatchObject({ username: `viewer${suffix}`, role: 'viewer' });
    expect(viewer.body).not.toHaveProperty('password');
    const dup = await call('POST', api('/users'), {
      token: admin.access_token,
      body: { username: `viewer${suffix}`, email: `viewer${suffix}@example.com`, password: 'viewer-password-123', role: 'viewer' },
    });
    expect(dup.status).toBe(409);
    const v = await login(`viewer${suffix}`, 'viewer-password-123');
    expect((await call('GET', api('/agents'), { token: v.access_token })).status).toBe(200);
    expect((await call('POST', api('/agents'), { token: v.access_token, body: { id: 'nope' } })).status).toBe(403);
    expect((await call('GET', api('/users'), { token: v.access_token })).status).toBe(403);
    const escalate = await call('POST', api('/api-keys'), { token: v.access_token, body: { name: 'x', permissions: ['admin'] } });
    expect(escalate.status).toBe(403);
  });

  it('rotates refresh tokens and revokes the session when one is replayed', async () => {
    const s = await login('admin', E2E.adminPassword);
    const first = await call('POST', api('/auth/refresh'), { body: { refresh_token: s.refresh_token } });
    expect(first.status).toBe(200);
    const replay = await call('POST', api('/auth/refresh'), { body: { refresh_token: s.refresh_token } });
    expect(replay.status).toBe(401);
    const afterReplay = await call('POST', api('/auth/refresh'), { body: { refresh_token: first.body.refresh_token } });
    expect(afterReplay.status).toBe(401);
    await eventually('revoked access token refused', () => call('GET', api('/users/profile'), { token: first.body.access_token }).then((r) => r.status), (st) => st === 401);
  });

  it('logs out: the tokens of the session stop working', async () => {
    const s = await login('admin', E2E.adminPassword);
    expect((await call('POST', api('/auth/logout'), { token: s.access_token })).status).toBe(204);
    expect((await call('POST', api('/auth/refresh'), { body: { refresh_token: s.refresh_token } })).status).toBe(401);
    await eventually('logged-out access token refused', () => call('GET', api('/users/profile'), { token: s.access_token }).then((r) => r.status), (st) => st === 401);
  });

  it('mints an ingest key that is shown once and can push but not read', async () => {
    const created = await call('POST', api('/api-keys'), { token: admin.access_token, body: { name: `e2e-ingest-${Date.now()}`, permissions: ['ingest:write'] } });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^amk_/);
    ingestKey = created.body.key;
    const list = await call('GET', api('/api-keys'), { token: admin.access_token });
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(ingestKey);
    expect((await call('GET', api('/agents'), { token: ingestKey })).status).toBe(403);
  });
});

describe('telemetry', () => {
  it('acknowledges a JSON batch with 202, registers the agent online, and serves its points back', async () => {
    const t0 = Date.now() - 60_000;
    const res = await push([
      { measurement: 'agent_metrics', fields: { cpu_usage: 41.5, memory_usage: 60.25 }, time: new Date(t0).toISOString() },
      { measurement: 'agent_metrics', fields: { cpu_usage: 42.5, memory_usage: 61.25 }, time: t0 + 1000 },
    ]);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: 2 });
    // every service sends the basic security headers, the ingest port included
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');

    const agent = await eventually(
      'agent registered',
      () => call('GET', api(`/agents/${agentId}`), { token: admin.access_token }),
      (r) => r.status === 200 && r.body.status === 'online',
    );
    expect(agent.body).toMatchObject({ id: agentId, name: 'E2E agent', type: 'llm-agent', region: 'eu-west-1', tags: { env: 'e2e' } });
    const list = await call('GET', api('/agents?status=online&limit=1000'), { token: admin.access_token });
    expect(list.body.items.map((a: { id: string }) => a.id)).toContain(agentId);
    expect(list.body).toHaveProperty('next_cursor');

    const hist = await eventually(
      'points queryable',
      () =>
        call('GET', api(`/metrics/historical/${agentId}?measurement=agent_metrics&fields=cpu_usage,memory_usage&from=${t0 - 5000}&to=${Date.now()}&interval=1s`), {
          token: admin.access_token,
        }),
      (r) => r.status === 200 && r.body.series?.find((s: { field: string }) => s.field === 'cpu_usage')?.points.filter((p: [string, number | null]) => p[1] !== null).length === 2,
    );
    const cpu = hist.body.series.find((s: { field: string }) => s.field === 'cpu_usage');
    expect(cpu.points.filter((p: [string, number | null]) => p[1] !== null).map((p: [string, number]) => p[1])).toEqual([41.5, 42.5]);
  });

  it('refuses a batch with a bad point whole, naming it, and stores nothing of it', async () => {
    const res = await push([
      { measurement: 'agent_metrics', fields: { cpu_usage: 1 } },
      { measurement: 'agent_metrics', fields: { cpu_usage: { nested: true } } },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: { path: string }) => d.path)).toContain('points[1].fields.cpu_usage');
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.js:\d+/);
    const noKey = await call('POST', `${E2E.ingest}/api/v2/ingest`, { body: { agent: { id: agentId }, points: [] } });
    expect(noKey.status).toBe(401);
  });

  it('answers a bad query with 400 naming the field', async () => {
    const res = await call('GET', api('/agents?status=sleeping'), { token: admin.access_token });
    expect(res.status).toBe(400);
    expect(res.body.details[0].path).toContain('status');
  });
});

describe('alerting and notification', () => {
  it('fires a threshold alert that is listed as active and reaches the webhook with a valid signature', async () => {
    const secret = 'e2e-webhook-secret';
    const channel = await call('POST', api('/notification-channels'), {
      token: admin.access_token,
      body: { name: `e2e-hook-${Date.now()}`, type: 'webhook', config: { url: webhookUrl, secret } },
    });
    expect(channel.status).toBe(201);
    expect(JSON.stringify(channel.body)).not.toContain(secret);
    const rule = await call('POST', api('/alerts/rules'), {
      token: admin.access_token,
      body: {
        name: `CPU hot ${Date.now()}`,
        severity: 'critical',
        for: '0s',
        scope: { agent_ids: [agentId] },
        condition: { type: 'threshold', measurement: 'agent_metrics', field: 'cpu_usage', aggregation: 'last', window: '1m', op: '>', value: 90 },
        channels: [channel.body.id],
      },
    });
    expect(rule.status).toBe(201);

    const socket = io(E2E.gateway, { path: '/ws/dashboard', transports: ['websocket'], auth: { token: admin.access_token }, reconnection: false });
    const triggered: any[] = [];
    socket.on('alert_triggered', (m) => triggered.push(m));
    await new Promise<void>((resolve, reject) => {
      socket.on('connect', resolve);
      socket.on('connect_error', reject);
    });

    expect((await push([{ measurement: 'agent_metrics', fields: { cpu_usage: 97.5, memory_usage: 50 } }])).status).toBe(202);
    const active = await eventually(
      'alert active',
      () => call('GET', api(`/alerts/active?agent_id=${agentId}`), { token: admin.access_token }),
      (r) => r.status === 200 && r.body.items.some((a: { rule_id: string; status: string }) => a.rule_id === rule.body.id && a.status === 'firing'),
    );
    const alert = active.body.items.find((a: { rule_id: string }) => a.rule_id === rule.body.id);
    expect(alert).toMatchObject({ agent_id: agentId, severity: 'critical', value: 97.5 });
    const pushed = await eventually('alert_triggered on the socket', async () => triggered.find((t) => t.alert?.id === alert.id), (t) => t !== undefined);
    expect(pushed.alert).toMatchObject({ rule_id: rule.body.id, agent_id: agentId, status: 'firing' });
    socket.disconnect();

    const delivery = await eventually('webhook delivery', async () => received.find((r) => r.body.includes(alert.id)), (r) => r !== undefined);
    const expected = `sha256=${createHmac('sha256', secret).update(delivery!.body).digest('hex')}`;
    expect(delivery!.headers['x-agentmon-signature']).toBe(expected);

    const attempts = await eventually(
      'attempt recorded',
      () => call('GET', api(`/alerts/${alert.id}/notifications`), { token: admin.access_token }),
      (r) => r.status === 200 && r.body.items.length > 0,
    );
    expect(attempts.body.items[0]).toMatchObject({ channel_id: channel.body.id, status: 'delivered' });
  });

  it("fires a rule scoped by tags on a new agent's very first batch, whose agent info names the tags", async () => {
    // the registry registers the agent from the same batch the evaluator reads, in parallel with it
    const team = `e2e-team-${Date.now()}`;
    const newcomer = `e2e-newcomer-${Date.now()}`;
    const rule = await call('POST', api('/alerts/rules'), {
      token: admin.access_token,
      body: {
        name: `Team CPU hot ${team}`,
        severity: 'warning',
        for: '0s',
        scope: { tags: { team } },
        condition: { type: 'threshold', measurement: 'agent_metrics', field: 'cpu_usage', aggregation: 'last', window: '1m', op: '>', value: 90 },
      },
    });
    expect(rule.status).toBe(201);
    const first = await push([{ measurement: 'agent_metrics', fields: { cpu_usage: 99 } }], ingestKey, { id: newcomer, tags: { team } });
    expect(first.status).toBe(202);
    const active = await eventually(
      'alert active for the newcomer',
      () => call('GET', api(`/alerts/active?agent_id=${newcomer}`), { token: admin.access_token }),
      (r) => r.status === 200 && r.body.items.some((a: { rule_id: string }) => a.rule_id === rule.body.id),
    );
    expect(active.body.items.find((a: { rule_id: string }) => a.rule_id === rule.body.id)).toMatchObject({ agent_id: newcomer, status: 'firing', value: 99 });
  });
});

describe('real time over socket.io', () => {
  let socket: Socket | undefined;
  afterEach(() => socket?.disconnect());

  it('refuses a connection without a token', async () => {
    const s = io(E2E.gateway, { path: '/ws/dashboard', transports: ['websocket'], reconnection: false });
    const err = await new Promise<Error>((resolve) => s.on('connect_error', resolve));
    expect(err.message).toMatch(/unauthori[sz]ed|token/i);
    s.disconnect();
  });

  it('streams new_metrics_data for a subscribed agent, alert_triggered, and agent_status_changed when it goes offline', async () => {
    const quietAgent = `e2e-quiet-${Date.now()}`;
    socket = io(E2E.gateway, { path: '/ws/dashboard', transports: ['websocket'], auth: { token: admin.access_token }, reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket!.on('connect', resolve);
      socket!.on('connect_error', reject);
    });
    const metrics: any[] = [];
    const statuses: any[] = [];
    socket.on('new_metrics_data', (m) => metrics.push(m));
    socket.on('agent_status_changed', (m) => statuses.push(m));
    socket.emit('subscribe', { agent_ids: [quietAgent] });
    await new Promise((r) => setTimeout(r, 300));
    const res = await push([{ measurement: 'agent_metrics', fields: { cpu_usage: 12.5, memory_usage: 30 } }], ingestKey, { id: quietAgent, name: 'Quiet' });
    expect(res.status).toBe(202);
    const m = await eventually('new_metrics_data', async () => metrics.find((x) => x.agent_id === quietAgent), (x) => x !== undefined);
    expect(m).toMatchObject({ agent_id: quietAgent, measurement: 'agent_metrics', fields: { cpu_usage: 12.5, memory_usage: 30 } });
    // The agent now stops pushing: after the heartbeat timeout it goes offline.
    const change = await eventually(
      'agent_status_changed to offline',
      async () => statuses.find((x) => x.agent_id === quietAgent && x.to === 'offline'),
      (x) => x !== undefined,
      E2E.heartbeatTimeoutMs + 15_000,
    );
    expect(change).toMatchObject({ from: 'online', to: 'offline' });
    const agent = await call('GET', api(`/agents/${quietAgent}`), { token: admin.access_token });
    expect(agent.body.status).toBe('offline');
  });
});

describe('system health', () => {
  it('reports every service and the four dependencies', async () => {
    const res = await call('GET', api('/system/health'), { token: admin.access_token });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    for (const svc of ['gateway', 'ingest', 'alerting', 'auth', 'registry', 'notification']) {
      expect(res.body.services[svc]).toMatchObject({ status: 'ok', latency_ms: expect.any(Number) });
    }
    for (const dep of ['postgres', 'redis', 'nats', 'influxdb']) {
      expect(res.body.dependencies[dep]).toMatchObject({ status: 'ok' });
    }
  });
});
