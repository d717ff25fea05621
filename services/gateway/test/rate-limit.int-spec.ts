/**
 * Rate limits against the real Redis of the test profile:
 * 1. the GCRA script itself (RateLimiter from libs/http-kit): its edges, atomicity under concurrency,
 *    NOSCRIPT recovery, failing open when Redis is unreachable;
 * 2. TWO gateway processes (the built gateway, services/gateway/dist/main.js, as in production) on
 *    the same Redis: requests spread over both draw on one budget, the RateLimit headers count down
 *    across both, and the 429 carries Retry-After and the contract's error body; login budgets per
 *    username and per address; failed credentials charged to the address;
 * 3. a third gateway whose Redis is unreachable: the API fails open (counted in /metrics), login
 *    is still throttled, in that process.
 * Auth and registry are the NATS doubles of test/fake-services.ts. Client addresses are chosen per
 * run with X-Forwarded-For (the gateway believes loopback proxies), so reruns and the other tests
 * from 127.0.0.1 never share a budget with this one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestMicroservice } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { RateLimiter, rateLimitBudget } from '@agentmon/http-kit';
import { TEST_INFRA } from '../../../test/support/test-env.js';
import { registerApiKey, signToken, startFakeServices } from './fake-services.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RUN = randomBytes(4).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** an IPv6 /64 of our own for this run (documentation prefix): a fresh per-address budget */
const address = (n: number) => `2001:db8:${RUN.slice(0, 4)}:${((parseInt(RUN.slice(4), 16) + n) & 0xffff).toString(16)}::1`;

describe('GCRA script in Redis (RateLimiter)', () => {
  const redis = new Redis(TEST_INFRA.redisUrl);
  const prefix = `agentmon:test:rl:${RUN}:`;
  const limiter = new RateLimiter({ redis, keyPrefix: prefix, timeoutMs: 2000 });
  const ready = (r: Redis) => (r.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => r.once('ready', () => resolve())));

  beforeAll(() => ready(redis));

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('allows a burst of exactly the limit, counts down, refuses with the time to the next unit, and sets a TTL', async () => {
    const five = rateLimitBudget('five', 5, 2); // one unit every 400 ms
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push(await limiter.consume([{ budget: five, key: 'burst' }]));
    expect(seen.map((d) => d.allowed)).toEqual([true, true, true, true, true, false]);
    expect(seen.slice(0, 5).map((d) => d.outcomes[0]!.remaining)).toEqual([4, 3, 2, 1, 0]);
    const refused = seen[5]!;
    expect(refused.checkedBy).toBe('redis');
    expect(refused.outcomes[0]!.remaining).toBe(0);
    expect(refused.outcomes[0]!.retryAfterMs).toBeGreaterThan(0);
    expect(refused.outcomes[0]!.retryAfterMs).toBeLessThanOrEqual(400);
    expect(refused.outcomes[0]!.nextUnitMs).toBe(refused.outcomes[0]!.retryAfterMs);
    expect(refused.retryAfterSeconds).toBe(1);
    const ttl = await redis.pttl(`${prefix}five:burst`);
    expect(ttl).toBeGreaterThan(1500);
    expect(ttl).toBeLessThanOrEqual(2001);
  });

  it('does not charge refused requests, and allows one unit again after the announced wait', async () => {
    const two = rateLimitBudget('two', 2, 1); // one unit every 500 ms
    await limiter.consume([{ budget: two, key: 'wait' }]);
    await limiter.consume([{ budget: two, key: 'wait' }]);
    let last;
    for (let i = 0; i < 20; i++) last = await limiter.consume([{ budget: two, key: 'wait' }]);
    expect(last!.allowed).toBe(false);
    await sleep(last!.outcomes[0]!.retryAfterMs + 20);
    expect((await limiter.consume([{ budget: two, key: 'wait' }])).allowed).toBe(true);
    expect((await limiter.consume([{ budget: two, key: 'wait' }])).allowed).toBe(false);
  });

  it('charges every budget of a request or none', async () => {
    const narrow = rateLimitBudget('narrow', 2, 60);
    const wide = rateLimitBudget('wide', 10, 60);
    const both = [
      { budget: narrow, key: 'n' },
      { budget: wide, key: 'w' },
    ];
    await limiter.consume(both);
    await limiter.consume(both);
    const refused = await limiter.consume(both);
    expect(refused.allowed).toBe(false);
    expect(refused.outcomes.map((o) => [o.budget.name, o.allowed, o.remaining])).toEqual([
      ['narrow', false, 0],
      ['wide', true, 8],
    ]);
    expect(refused.retryAfterSeconds).toBe(30);
    // the wide budget was not charged for the refused request
    expect((await limiter.consume([{ budget: wide, key: 'w' }])).outcomes[0]!.remaining).toBe(7);
  });

  it('is atomic: 200 concurrent requests on one budget of 50 let exactly 50 through', async () => {
    const fifty = rateLimitBudget('fifty', 50, 600);
    const other = new Redis(TEST_INFRA.redisUrl);
    const second = new RateLimiter({ redis: other, keyPrefix: prefix, timeoutMs: 5000 });
    try {
      await ready(other);
      const all = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? second : limiter).consume([{ budget: fifty, key: 'race' }])));
      expect(all.filter((d) => d.allowed)).toHaveLength(50);
      expect(all.filter((d) => d.allowed).map((d) => d.outcomes[0]!.remaining).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    } finally {
      await other.quit();
    }
  });

  it('loads the script again after Redis forgot it (SCRIPT FLUSH, a restart)', async () => {
    const budget = rateLimitBudget('flush', 3, 60);
    expect((await limiter.consume([{ budget, key: 'f' }])).outcomes[0]!.remaining).toBe(2);
    await redis.script('FLUSH');
    expect((await limiter.consume([{ budget, key: 'f' }])).outcomes[0]!.remaining).toBe(1);
  });

  it('leases: a busy key costs Redis a few calls instead of one per request, and two leasing replicas never exceed the budget', async () => {
    const evalCalls = async () => {
      const info = await redis.info('commandstats');
      return Number(/cmdstat_evalsha:calls=(\d+)/.exec(info)?.[1] ?? 0) + Number(/cmdstat_eval:calls=(\d+)/.exec(info)?.[1] ?? 0);
    };
    const budget = rateLimitBudget('leased', 600, 600);
    const other = new Redis(TEST_INFRA.redisUrl);
    const a = new RateLimiter({ redis, keyPrefix: prefix, timeoutMs: 2000, lease: { horizonMs: 250 } });
    const b = new RateLimiter({ redis: other, keyPrefix: prefix, timeoutMs: 2000, lease: { horizonMs: 250 } });
    try {
      await ready(other);
      // 300 requests one after another through one replica: the lease grows with the traffic
      const before = await evalCalls();
      let served = 0;
      for (let i = 0; i < 300; i++) if ((await a.consume([{ budget, key: 'busy' }])).allowed) served++;
      const calls = (await evalCalls()) - before;
      expect(served).toBe(300);
      expect(calls).toBeLessThan(150);
      // what Redis holds for the key: everything served plus what replica a still holds, never less
      const probe = new RateLimiter({ redis, keyPrefix: prefix, timeoutMs: 2000 });
      const left = (await probe.consume([{ budget, key: 'busy' }])).outcomes[0]!.remaining;
      expect(600 - 1 - left).toBeGreaterThanOrEqual(300);
      expect(600 - 1 - left).toBeLessThanOrEqual(300 + 60);
      // both replicas drain the rest of the budget: never more than it allows in total
      let more = 0;
      for (let i = 0; i < 800; i++) if ((await (i % 2 ? b : a).consume([{ budget, key: 'busy' }])).allowed) more++;
      expect(300 + 1 + more).toBeLessThanOrEqual(600);
      // at most the two replicas' leases (a tenth of the budget each) go unspent
      expect(300 + 1 + more).toBeGreaterThanOrEqual(600 - 2 * 60);
    } finally {
      await other.quit();
    }
  });

  it('fails open for the API when Redis does not answer, and counts it', async () => {
    const down = new Redis('redis://127.0.0.1:1/0', { lazyConnect: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    down.on('error', () => undefined);
    const registry = new Registry();
    const open = new RateLimiter({ redis: down, keyPrefix: prefix, registry, logger: { warn: () => undefined } });
    try {
      const d = await open.consume([{ budget: rateLimitBudget('down', 1, 60), key: 'x' }]);
      expect(d).toEqual({ allowed: true, outcomes: [], retryAfterSeconds: 0, checkedBy: 'unchecked' });
      expect(await registry.getSingleMetricAsString('agentmon_rate_limit_unavailable_total')).toMatch(/fallback="allow"} 1/);
    } finally {
      down.disconnect();
    }
  });
});

// ---------------------------------------------------------------------------------------------------
interface Gateway {
  name: string;
  url: string;
  child: ChildProcess;
  output: string[];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function startGateway(name: string, env: Record<string, string>, readyPath = '/health/ready'): Promise<Gateway> {
  const port = await freePort();
  const output: string[] = [];
  const child = spawn(process.execPath, [path.join(ROOT, 'services/gateway/dist/main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      NATS_URL: TEST_INFRA.natsUrl,
      REDIS_URL: TEST_INFRA.redisUrl,
      LOG_LEVEL: 'warn',
      RPC_TIMEOUT_MS: '3000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => output.push(d.toString()));
  const gw = { name, url: `http://127.0.0.1:${port}`, child, output };
  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway ${name} exited (${child.exitCode}):\n${output.join('')}`);
    try {
      if ((await fetch(`${gw.url}${readyPath}`)).ok) return gw;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > until) throw new Error(`gateway ${name} not ready:\n${output.join('')}`);
    await sleep(200);
  }
}

async function stopGateway(gw: Gateway | undefined): Promise<void> {
  if (!gw || gw.child.exitCode !== null) return;
  const exited = new Promise((r) => gw.child.once('exit', r));
  gw.child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (gw.child.exitCode === null) gw.child.kill('SIGKILL');
}

async function call(gw: Gateway, method: string, p: string, opts: { token?: string; apiKey?: string; from?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.apiKey) headers['x-api-key'] = opts.apiKey;
  if (opts.from) headers['x-forwarded-for'] = opts.from;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${gw.url}/api/v2${p}`, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  const text = await res.text();
  return {
    status: res.status,
    body: (text ? JSON.parse(text) : undefined) as any,
    retryAfter: res.headers.get('retry-after'),
    policy: res.headers.get('ratelimit-policy'),
    rateLimit: res.headers.get('ratelimit'),
  };
}

/** `"name";r=R;t=T` items of a RateLimit header, by policy name. */
function parseRateLimit(header: string | null): Record<string, { r: number; t: number }> {
  const out: Record<string, { r: number; t: number }> = {};
  for (const item of (header ?? '').split(',')) {
    const m = /^\s*"([a-z0-9-]+)";r=(\d+);t=(\d+)\s*$/.exec(item);
    if (m) out[m[1]!] = { r: Number(m[2]), t: Number(m[3]) };
  }
  return out;
}

describe('two gateway processes sharing one Redis', () => {
  let fakes: INestMicroservice;
  let a: Gateway;
  let b: Gateway;
  const budgets = {
    API_MAX_PER_USER: '10',
    API_MAX_PER_KEY: '6',
    API_MAX_PER_IP: '30',
    API_RATE_WINDOW_S: '60',
    LOGIN_MAX_PER_USER: '4',
    LOGIN_MAX_PER_IP: '8',
    LOGIN_RATE_WINDOW_S: '60',
  };

  beforeAll(async () => {
    // the processes run the built gateway: bring dist/ up to date (incremental; a no-op after `npm test`'s build)
    const build = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'services/gateway/tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`gateway build failed:\n${build.stdout}${build.stderr}`);
    fakes = await startFakeServices(TEST_INFRA.natsUrl);
    [a, b] = await Promise.all([startGateway('A', budgets), startGateway('B', budgets)]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([stopGateway(a), stopGateway(b)]);
    await fakes?.close();
  });

  it('spreads one user’s requests over both gateways and exhausts one shared budget', async () => {
    const token = await signToken({ role: 'viewer', sub: `rl-user-${RUN}` });
    const from = address(1);
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await call(i % 2 ? b : a, 'GET', '/agents', { token, from }));

    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 429, 429]);
    // the same policy on every answer, from both processes
    for (const r of answers) expect(r.policy).toBe('"api-user";q=10;w=60, "api-ip";q=30;w=60');
    // one budget, counting down across A and B
    expect(answers.slice(0, 10).map((r) => parseRateLimit(r.rateLimit)['api-user']!.r)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(answers.slice(0, 10).map((r) => parseRateLimit(r.rateLimit)['api-ip']!.r)).toEqual([29, 28, 27, 26, 25, 24, 23, 22, 21, 20]);

    for (const refused of answers.slice(10)) {
      expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.stringContaining('api-user') });
      expect(typeof refused.body.request_id).toBe('string');
      const wait = Number(refused.retryAfter);
      expect(wait).toBeGreaterThanOrEqual(1);
      expect(wait).toBeLessThanOrEqual(6); // one unit comes back every 60/10 s
      const limit = parseRateLimit(refused.rateLimit);
      expect(limit['api-user']).toEqual({ r: 0, t: wait });
      expect(limit['api-ip']!.r).toBe(20); // not charged for the refused request
    }
    console.log(
      `[rate-limit] one user over gateways A,B: statuses ${answers.map((r) => r.status).join(',')}; ` +
        `RateLimit api-user r: ${answers.map((r) => parseRateLimit(r.rateLimit)['api-user']!.r).join(',')}; Retry-After ${answers[10]!.retryAfter}/${answers[11]!.retryAfter} s`,
    );

    // another user from the same address still has a full budget of its own
    const other = await call(b, 'GET', '/agents', { token: await signToken({ role: 'viewer', sub: `rl-other-${RUN}` }), from });
    expect(other.status).toBe(200);
    expect(parseRateLimit(other.rateLimit)['api-user']!.r).toBe(9);

    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/agentmon_rate_limit_decisions_total\{budget="api-user",outcome="limited"[^}]*\} [1-9]/);
  });

  it('lets the dashboard read the headers (CORS exposes them)', async () => {
    const res = await fetch(`${a.url}/api/v2/auth/jwks`, { headers: { origin: 'http://localhost:3000', 'x-forwarded-for': address(40) } });
    expect(res.status).toBe(200);
    const exposed = (res.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim().toLowerCase());
    expect(exposed).toEqual(expect.arrayContaining(['ratelimit-policy', 'ratelimit', 'retry-after']));
    expect(parseRateLimit(res.headers.get('ratelimit'))['api-ip']!.r).toBe(29);
  });

  it('keeps a budget per API key, apart from its creator’s', async () => {
    const key = `amk_rateLimitTest${RUN}000000000000000`;
    registerApiKey(key, { id: `key-rl-${RUN}`, user_id: `rl-user-${RUN}`, username: 'ci', role: 'viewer', permissions: ['read'] });
    const from = address(2);
    const statuses = [];
    const remaining = [];
    for (let i = 0; i < 8; i++) {
      const r = await call(i % 2 ? a : b, 'GET', '/agents', { apiKey: key, from });
      statuses.push(r.status);
      remaining.push(parseRateLimit(r.rateLimit)['api-key']?.r);
      if (r.status === 200) expect(r.policy).toBe('"api-key";q=6;w=60, "api-ip";q=30;w=60');
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
    expect(remaining).toEqual([5, 4, 3, 2, 1, 0, 0, 0]);
  });

  it('charges failed credentials to the client address: 401 until it is spent, then 429', async () => {
    const from = address(3);
    const statuses = [];
    for (let i = 0; i < 32; i++) statuses.push((await call(i % 2 ? a : b, 'GET', '/agents', { token: 'not-a-jwt', from })).status);
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(30)).toEqual([429, 429]);
    // public routes draw on the address budget too
    const jwks = await call(a, 'GET', '/auth/jwks', { from });
    expect(jwks.status).toBe(429);
    expect(Number(jwks.retryAfter)).toBeGreaterThanOrEqual(1);
    // probes are exempt
    const live = await fetch(`${a.url}/health/live`, { headers: { 'x-forwarded-for': from } });
    expect(live.status).toBe(200);
    expect(live.headers.get('ratelimit')).toBeNull();
  });

  it('throttles password guessing per username across both gateways, and per address', async () => {
    const username = `mallory-${RUN}`;
    const guesses = [];
    for (let i = 0; i < 6; i++) guesses.push(await call(i % 2 ? b : a, 'POST', '/auth/login', { body: { username, password: 'guess' }, from: address(4 + i) }));
    // four wrong passwords from four addresses, then refused even before the password is checked
    expect(guesses.map((r) => r.status)).toEqual([401, 401, 401, 401, 429, 429]);
    expect(guesses.map((r) => parseRateLimit(r.rateLimit)['login-user']?.r)).toEqual([3, 2, 1, 0, 0, 0]);
    expect(guesses[0]!.policy).toBe('"login-user";q=4;w=60, "login-ip";q=8;w=60');
    const refused = guesses[5]!;
    expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.stringContaining('login-user') });
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(15); // one attempt every 60/4 s
    const correct = await call(a, 'POST', '/auth/login', { body: { username, password: 'correct horse battery' }, from: address(20) });
    expect(correct.status).toBe(429);

    // one address trying many usernames: 8 attempts, then refused
    const from = address(21);
    const spray = [];
    for (let i = 0; i < 10; i++) spray.push((await call(i % 2 ? a : b, 'POST', '/auth/login', { body: { username: `user${i}-${RUN}`, password: 'guess' }, from })).status);
    expect(spray).toEqual([401, 401, 401, 401, 401, 401, 401, 401, 429, 429]);
    console.log(`[rate-limit] login guesses on one username: ${guesses.map((r) => r.status).join(',')} (Retry-After ${refused.retryAfter} s); one address spraying usernames: ${spray.join(',')}`);
  });

  describe('a gateway whose Redis is unreachable', () => {
    let c: Gateway;
    beforeAll(async () => {
      // readiness fails without Redis (by design), so wait for liveness
      c = await startGateway('C (no Redis)', { ...budgets, REDIS_URL: 'redis://127.0.0.1:1/0', RATE_LIMIT_REDIS_TIMEOUT_MS: '100' }, '/health/live');
    }, 60_000);
    afterAll(() => stopGateway(c));

    it('fails open for the API (no RateLimit headers, counted in /metrics) and still throttles logins in-process', async () => {
      const token = await signToken({ role: 'viewer', sub: `rl-noredis-${RUN}` });
      const statuses = [];
      for (let i = 0; i < 12; i++) {
        const r = await call(c, 'GET', '/agents', { token, from: address(30) });
        statuses.push(r.status);
        expect(r.rateLimit).toBeNull();
      }
      expect(statuses.every((s) => s === 200)).toBe(true);

      const username = `eve-${RUN}`;
      const logins = [];
      for (let i = 0; i < 5; i++) logins.push(await call(c, 'POST', '/auth/login', { body: { username, password: 'guess' }, from: address(31) }));
      expect(logins.map((r) => r.status)).toEqual([401, 401, 401, 401, 429]);
      expect(Number(logins[4]!.retryAfter)).toBeGreaterThanOrEqual(1);

      const metrics = await (await fetch(`${c.url}/metrics`)).text();
      const allowCount = Number(/agentmon_rate_limit_unavailable_total\{fallback="allow"[^}]*\} (\d+)/.exec(metrics)?.[1]);
      const localCount = Number(/agentmon_rate_limit_unavailable_total\{fallback="local"[^}]*\} (\d+)/.exec(metrics)?.[1]);
      expect(allowCount).toBeGreaterThanOrEqual(12);
      expect(localCount).toBe(5);
      expect(c.output.join('')).toMatch(/rate limits not checked: Redis unavailable/);
      console.log(`[rate-limit] Redis unreachable: API ${statuses.join(',')}; login ${logins.map((r) => r.status).join(',')}; unavailable_total allow=${allowCount} local=${localCount}`);
    });
  });
});
