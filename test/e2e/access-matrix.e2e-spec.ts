// The route access matrix, end to end: every route of the running gateway (enumerated from its
// OpenAPI document, so a new route cannot be forgotten) with anonymous, viewer, operator, admin and
// an API key of each permission, against the table in access-matrix.ts. Resources a route needs
// exist before it is called, so a success is a real 2xx and not a 404 behind the guard.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CALLERS, ROUTES, expectedStatus, withMatrix, type Caller, type RouteKey, type RouteRow } from './access-matrix.js';
import { E2E, REPO_ROOT as ROOT, api, call, eventually, login } from './harness.js';

const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
type UserCaller = 'viewer' | 'operator' | 'admin';

interface Request {
  path: string;
  body?: unknown;
  /** another credential than the caller's (a fresh session of the caller's user, for logout) */
  token?: string;
}
interface Ctx {
  cred: Record<Caller, string | undefined>;
  users: Record<UserCaller, { id: string; username: string; password: string }>;
  admin: string;
  agentId: string;
  ruleId: string;
  channelId: string;
  alertId: string;
  targetUserId: string;
  loginUser: { username: string; password: string };
  refreshToken: string;
  webhookUrl: string;
}

let seq = 0;
const unique = (what: string) => `${what}-${RUN}-${++seq}`;
const ruleBody = (ctx: Ctx, name: string) => ({
  name,
  severity: 'warning',
  for: '0s',
  scope: { agent_ids: [ctx.agentId] },
  condition: { type: 'threshold', measurement: 'agent_metrics', field: 'cpu_usage', aggregation: 'last', window: '10m', op: '>', value: 90 },
  channels: [],
});
const channelBody = (ctx: Ctx, name: string) => ({ name, type: 'webhook', config: { url: ctx.webhookUrl, secret: `matrix-webhook-secret-${RUN}` } });

async function created(what: string, method: string, url: string, token: string, body?: unknown): Promise<any> {
  const r = await call(method, url, { token, body });
  if (r.status !== 201 && r.status !== 200) throw new Error(`setting up ${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** The request each route gets: a path with real ids, a valid body, and any resource it consumes made first. */
const REQUESTS: Record<RouteKey, (ctx: Ctx, caller: Caller) => Promise<Request>> = {
  'POST /api/v2/auth/login': async (ctx) => ({ path: '/api/v2/auth/login', body: ctx.loginUser }),
  'POST /api/v2/auth/refresh': async (ctx) => ({ path: '/api/v2/auth/refresh', body: { refresh_token: ctx.refreshToken } }),
  'POST /api/v2/auth/logout': async (ctx, caller) => {
    // a session of the caller's own user, made for this call: the caller's session stays for the other rows
    if (caller in ctx.users) {
      const u = ctx.users[caller as UserCaller];
      return { path: '/api/v2/auth/logout', token: (await login(u.username, u.password)).access_token };
    }
    return { path: '/api/v2/auth/logout' };
  },
  'GET /api/v2/auth/jwks': async () => ({ path: '/api/v2/auth/jwks' }),
  'GET /api/v2/users/profile': async () => ({ path: '/api/v2/users/profile' }),
  'POST /api/v2/users': async () => {
    const username = unique('matrix-made');
    return { path: '/api/v2/users', body: { username, email: `${username}@example.test`, password: `pw-${username}-long`, role: 'viewer' } };
  },
  'GET /api/v2/users': async () => ({ path: '/api/v2/users' }),
  'PATCH /api/v2/users/{id}': async (ctx) => ({ path: `/api/v2/users/${ctx.targetUserId}`, body: { active: true } }),
  'POST /api/v2/api-keys': async () => ({ path: '/api/v2/api-keys', body: { name: unique('matrix-key'), permissions: ['read'] } }),
  'GET /api/v2/api-keys': async () => ({ path: '/api/v2/api-keys' }),
  'DELETE /api/v2/api-keys/{id}': async (ctx, caller) => {
    // a key of the caller's own user (the matrix keys belong to the matrix admin)
    const owner = caller in ctx.users ? ctx.cred[caller]! : ctx.admin;
    const key = await created('a key to revoke', 'POST', api('/api-keys'), owner, { name: unique('matrix-revoke'), permissions: ['read'] });
    return { path: `/api/v2/api-keys/${key.id}` };
  },
  'GET /api/v2/audit-logs': async () => ({ path: '/api/v2/audit-logs?limit=5' }),
  'GET /api/v2/agents': async () => ({ path: '/api/v2/agents?limit=5' }),
  'POST /api/v2/agents': async () => ({ path: '/api/v2/agents', body: { id: unique('matrix-agent'), name: 'Matrix agent' } }),
  'GET /api/v2/agents/{id}': async (ctx) => ({ path: `/api/v2/agents/${ctx.agentId}` }),
  'PATCH /api/v2/agents/{id}': async (ctx) => ({ path: `/api/v2/agents/${ctx.agentId}`, body: { region: 'eu-west-1' } }),
  'DELETE /api/v2/agents/{id}': async (ctx) => {
    const agent = await created('an agent to delete', 'POST', api('/agents'), ctx.admin, { id: unique('matrix-gone'), name: 'to delete' });
    return { path: `/api/v2/agents/${agent.id}` };
  },
  'GET /api/v2/agents/{id}/config': async (ctx) => ({ path: `/api/v2/agents/${ctx.agentId}/config` }),
  'PUT /api/v2/agents/{id}/config': async (ctx) => ({ path: `/api/v2/agents/${ctx.agentId}/config`, body: { config: { sample_every: '10s' } } }),
  'GET /api/v2/metrics/aggregate/{timerange}': async () => ({ path: '/api/v2/metrics/aggregate/1h?field=cpu_usage' }),
  'GET /api/v2/metrics/historical/{agent_id}': async (ctx) => ({
    path: `/api/v2/metrics/historical/${ctx.agentId}?measurement=agent_metrics&fields=cpu_usage&from=${Date.now() - 3600_000}&to=${Date.now()}`,
  }),
  'POST /api/v2/alerts/rules': async (ctx) => ({ path: '/api/v2/alerts/rules', body: ruleBody(ctx, unique('matrix-rule')) }),
  'GET /api/v2/alerts/rules': async () => ({ path: '/api/v2/alerts/rules' }),
  'GET /api/v2/alerts/rules/{id}': async (ctx) => ({ path: `/api/v2/alerts/rules/${ctx.ruleId}` }),
  'PUT /api/v2/alerts/rules/{id}': async (ctx) => ({ path: `/api/v2/alerts/rules/${ctx.ruleId}`, body: ruleBody(ctx, `matrix-firing-${RUN}`) }),
  'DELETE /api/v2/alerts/rules/{id}': async (ctx) => {
    const rule = await created('a rule to delete', 'POST', api('/alerts/rules'), ctx.admin, { ...ruleBody(ctx, unique('matrix-rule-gone')), enabled: false });
    return { path: `/api/v2/alerts/rules/${rule.id}` };
  },
  'GET /api/v2/alerts/active': async () => ({ path: '/api/v2/alerts/active' }),
  'GET /api/v2/alerts': async () => ({ path: '/api/v2/alerts?limit=5' }),
  'GET /api/v2/alerts/{id}': async (ctx) => ({ path: `/api/v2/alerts/${ctx.alertId}` }),
  'POST /api/v2/alerts/{id}/ack': async (ctx) => ({ path: `/api/v2/alerts/${ctx.alertId}/ack` }),
  'GET /api/v2/alerts/{id}/notifications': async (ctx) => ({ path: `/api/v2/alerts/${ctx.alertId}/notifications` }),
  'POST /api/v2/notification-channels': async (ctx) => ({ path: '/api/v2/notification-channels', body: channelBody(ctx, unique('matrix-channel')) }),
  'GET /api/v2/notification-channels': async () => ({ path: '/api/v2/notification-channels' }),
  'GET /api/v2/notification-channels/{id}': async (ctx) => ({ path: `/api/v2/notification-channels/${ctx.channelId}` }),
  'PUT /api/v2/notification-channels/{id}': async (ctx) => ({ path: `/api/v2/notification-channels/${ctx.channelId}`, body: channelBody(ctx, `matrix-hook-${RUN}`) }),
  'DELETE /api/v2/notification-channels/{id}': async (ctx) => {
    const channel = await created('a channel to delete', 'POST', api('/notification-channels'), ctx.admin, channelBody(ctx, unique('matrix-channel-gone')));
    return { path: `/api/v2/notification-channels/${channel.id}` };
  },
  'POST /api/v2/notification-channels/{id}/test': async (ctx) => ({ path: `/api/v2/notification-channels/${ctx.channelId}/test` }),
  'GET /api/v2/dashboard/overview': async () => ({ path: '/api/v2/dashboard/overview' }),
  'GET /api/v2/dashboard/metrics/{timerange}': async () => ({ path: '/api/v2/dashboard/metrics/1h' }),
  'GET /api/v2/dashboard/agents/summary': async () => ({ path: '/api/v2/dashboard/agents/summary?limit=5' }),
  'GET /api/v2/system/health': async () => ({ path: '/api/v2/system/health' }),
  'GET /health/live': async () => ({ path: '/health/live' }),
  'GET /health/ready': async () => ({ path: '/health/ready' }),
  'GET /metrics': async () => ({ path: '/metrics' }),
};

let webhook: Server;
let ctx: Ctx;

beforeAll(async () => {
  webhook = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end('ok'));
  });
  await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
  const webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/matrix`;

  // users of each role, each with a session of its own; the matrix admin mints the keys
  const root = (await login('admin', E2E.adminPassword)).access_token;
  const makeUser = async (role: string, purpose: string = role) => {
    const username = `matrix-${purpose}-${RUN}`;
    const password = `matrix-${role}-password-${RUN}`;
    const user = await created(`user ${username}`, 'POST', api('/users'), root, { username, email: `${username}@example.test`, password, role });
    return { id: user.id as string, username, password };
  };
  const users = { viewer: await makeUser('viewer'), operator: await makeUser('operator'), admin: await makeUser('admin') };
  const loginUser = await makeUser('viewer', 'login');
  const refresher = await makeUser('viewer', 'refresher');
  const target = await makeUser('viewer', 'target');
  const tokens = {
    viewer: (await login(users.viewer.username, users.viewer.password)).access_token,
    operator: (await login(users.operator.username, users.operator.password)).access_token,
    admin: (await login(users.admin.username, users.admin.password)).access_token,
  };
  const key = async (permission: string) =>
    (await created(`a ${permission} key`, 'POST', api('/api-keys'), tokens.admin, { name: `matrix-${permission}-${RUN}`, permissions: [permission] })).key as string;
  const cred: Record<Caller, string | undefined> = {
    anonymous: undefined,
    ...tokens,
    'key:ingest:write': await key('ingest:write'),
    'key:read': await key('read'),
    'key:write': await key('write'),
    'key:admin': await key('admin'),
  };

  // an agent with a config and telemetry, a rule firing on it, a channel
  const agentId = `matrix-agent-${RUN}`;
  await created('the agent', 'POST', api('/agents'), tokens.admin, { id: agentId, name: 'Matrix agent' });
  await created('its config', 'PUT', api(`/agents/${agentId}/config`), tokens.admin, { config: { sample_every: '30s' } });
  const channel = await created('a channel', 'POST', api('/notification-channels'), tokens.admin, { name: `matrix-hook-${RUN}`, type: 'webhook', config: { url: webhookUrl, secret: `matrix-webhook-secret-${RUN}` } });
  const partial: Pick<Ctx, 'agentId' | 'webhookUrl'> = { agentId, webhookUrl };
  const rule = await created('a rule', 'POST', api('/alerts/rules'), tokens.admin, ruleBody(partial as Ctx, `matrix-firing-${RUN}`));
  const pushed = await call('POST', `${E2E.ingest}/api/v2/ingest`, {
    token: cred['key:ingest:write'],
    body: { agent: { id: agentId, name: 'Matrix agent' }, points: [{ measurement: 'agent_metrics', fields: { cpu_usage: 99.5, memory_usage: 10 } }] },
  });
  if (pushed.status !== 202) throw new Error(`pushing telemetry: ${pushed.status} ${JSON.stringify(pushed.body)}`);
  const active = await eventually(
    'the matrix alert fires',
    () => call('GET', api(`/alerts/active?agent_id=${agentId}`), { token: tokens.admin }),
    (r) => r.status === 200 && r.body.items.some((a: { rule_id: string }) => a.rule_id === rule.id),
    30_000,
  );
  const alertId = active.body.items.find((a: { rule_id: string }) => a.rule_id === rule.id).id as string;
  const refreshToken = (await login(refresher.username, refresher.password)).refresh_token;

  ctx = {
    cred,
    users,
    admin: tokens.admin,
    agentId,
    ruleId: rule.id,
    channelId: channel.id,
    alertId,
    targetUserId: target.id,
    loginUser: { username: loginUser.username, password: loginUser.password },
    refreshToken,
    webhookUrl,
  };
}, 90_000);

afterAll(async () => {
  await new Promise((r) => webhook?.close(r));
});

describe('the route access matrix', () => {
  it('has a row for every route of the running gateway’s API document, and no row for a route it lacks', async () => {
    const doc = await call('GET', `${E2E.gateway}/api/docs-json`);
    expect(doc.status).toBe(200);
    const served = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops)
        .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
        .map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(served.length).toBeGreaterThan(30);
    const rows = Object.entries(ROUTES) as [RouteKey, RouteRow][];
    const documented = rows.filter(([, r]) => !r.outsideOpenApi).map(([k]) => k as string);
    expect({ withoutRow: served.filter((k) => !documented.includes(k)).sort() }).toEqual({ withoutRow: [] });
    expect({ rowWithoutRoute: documented.filter((k) => !served.includes(k)).sort() }).toEqual({ rowWithoutRoute: [] });
  });

  it('docs/security.md shows this table (node scripts/security-doc.mjs rewrites it)', () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'security.md'), 'utf8');
    expect(withMatrix(doc)).toBe(doc);
  });

  it.each(Object.keys(ROUTES) as RouteKey[])('%s answers each caller as the table says', async (route) => {
    const row: RouteRow = ROUTES[route];
    const method = route.split(' ')[0]!;
    const wrong: string[] = [];
    for (const caller of CALLERS) {
      const req = await REQUESTS[route](ctx, caller);
      const token = req.token ?? ctx.cred[caller];
      const res = await call(method, `${E2E.gateway}${req.path}`, { token, body: req.body });
      const expected = expectedStatus(row, caller);
      if (res.status !== expected) wrong.push(`${caller}: ${res.status} (expected ${expected}) ${JSON.stringify(res.body)?.slice(0, 200)}`);
      // a refusal is the contract's error body, never the resource
      if (res.status === 401 || res.status === 403) expect(res.body).toMatchObject({ statusCode: res.status, message: expect.any(String) });
      // the refresh token works once: the next caller presents the one this call returned
      if (route === 'POST /api/v2/auth/refresh' && res.status === 200) ctx.refreshToken = res.body.refresh_token;
    }
    expect(wrong).toEqual([]);
  });
});
