/**
 * Rate limits of the ingest port against the real Redis of the test profile: two ingest replicas
 * (in-process, two ports) share one per-key budget across every push format, answer 429 with
 * Retry-After, the contract's body and RateLimit headers, and refuse before reading the body.
 * Auth is a double at the NATS boundary. Client addresses come from X-Forwarded-For (ingest believes
 * loopback proxies), chosen per run, so no other test from 127.0.0.1 shares these budgets.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Controller, Module, type INestApplication, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport } from '@nestjs/microservices';
import { AppError, type Principal, type RpcParsedRequest } from '@agentmon/contracts';
import { RpcHandler } from '@agentmon/messaging';
import { createLogger } from '@agentmon/observability';
import { TEST_INFRA } from '../../../test/support/test-env.js';
import { loadIngestConfig } from '../src/config.js';
import { startIngest } from '../src/ingest-app.js';

const RUN = randomBytes(4).toString('hex');
const KEY_1 = `amk_rateLimitedIngestKey${RUN}000001`;
const KEY_2 = `amk_rateLimitedIngestKey${RUN}000002`;
const address = (n: number) => `2001:db8:${RUN.slice(0, 4)}:${((parseInt(RUN.slice(4), 16) + n) & 0xffff).toString(16)}::7`;

const pusher = (id: string): Principal => ({ kind: 'api_key', id, user_id: 'u-rl', username: 'ci', role: 'operator', permissions: ['ingest:write'] });

@Controller()
class AuthDouble {
  @RpcHandler('rpc.auth.api-key.verify.v1')
  async verify(req: RpcParsedRequest<'rpc.auth.api-key.verify.v1'>) {
    if (req.key === KEY_1) return pusher(`key-1-${RUN}`);
    if (req.key === KEY_2) return pusher(`key-2-${RUN}`);
    throw new AppError('unauthorized', 'API key is not valid');
  }
}
@Module({ controllers: [AuthDouble] })
class AuthDoubleModule {}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function parseRateLimit(header: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of (header ?? '').split(',')) {
    const m = /^\s*"([a-z0-9-]+)";r=(\d+);t=(\d+)\s*$/.exec(item);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

describe('ingest rate limits (two replicas, one Redis)', () => {
  let auth: INestMicroservice;
  const replicas: { app: INestApplication; url: string }[] = [];

  beforeAll(async () => {
    auth = await NestFactory.createMicroservice(AuthDoubleModule, {
      transport: Transport.NATS,
      options: { servers: [TEST_INFRA.natsUrl], queue: 'ingest-rl-int-auth' },
      logger: false,
    } as never);
    await auth.listen();
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const config = loadIngestConfig({
        PORT: String(port),
        HTTP_HOST: '127.0.0.1',
        NATS_URL: TEST_INFRA.natsUrl,
        REDIS_URL: TEST_INFRA.redisUrl,
        INFLUX_URL: TEST_INFRA.influxUrl,
        INFLUX_DATABASE: 'agentmon_int',
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
        MAX_BODY_BYTES: String(64 * 1024),
        INGEST_MAX_PER_KEY: '5',
        INGEST_MAX_PER_IP: '20',
        INGEST_RATE_WINDOW_S: '60',
      });
      replicas.push({ app: await startIngest(config, createLogger('ingest', config.LOG_LEVEL)), url: `http://127.0.0.1:${port}` });
    }
  }, 60_000);

  afterAll(async () => {
    for (const r of replicas) await r.app.close();
    await auth?.close();
  });

  const push = (i: number, path: string, init: { key?: string; headers?: Record<string, string>; body?: string; from: string }) =>
    fetch(`${replicas[i % 2]!.url}${path}`, {
      method: 'POST',
      headers: {
        'x-forwarded-for': init.from,
        ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
        ...(init.body?.startsWith('{') ? { 'content-type': 'application/json' } : { 'content-type': 'text/plain' }),
        ...init.headers,
      },
      body: init.body ?? '',
    });
  const batch = JSON.stringify({ agent: { id: `rl-agent-${RUN}` }, points: [{ measurement: 'agent_metrics', fields: { cpu_usage: 12.5 } }] });

  it('shares one per-key budget over both replicas and every push format, then answers 429 with Retry-After', async () => {
    const from = address(1);
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await push(i, '/api/v2/ingest', { key: KEY_1, body: batch, from }));
    const statuses = answers.map((r) => r.status);
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429]);
    expect(answers.map((r) => parseRateLimit(r.headers.get('ratelimit'))['ingest-key'])).toEqual([4, 3, 2, 1, 0, 0, 0]);
    for (const r of answers) expect(r.headers.get('ratelimit-policy')).toBe('"ingest-key";q=5;w=60, "ingest-ip";q=20;w=60');

    const refused = answers[6]!;
    const body = (await refused.json()) as { statusCode: number; error: string; message: string };
    expect(body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.stringContaining('ingest-key') });
    const wait = Number(refused.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(12); // one request every 60/5 s

    // the same key through the InfluxDB 2.x and 1.x write APIs draws on the same budget
    const v2 = await push(0, '/api/v2/write?bucket=b&precision=ms', { headers: { authorization: `Token ${KEY_1}` }, body: `cpu,agent_id=rl-${RUN} v=1`, from });
    expect(v2.status).toBe(429);
    const v1 = await push(1, `/write?db=x&u=agent&p=${KEY_1}`, { body: `cpu,agent_id=rl-${RUN} v=1`, from });
    expect(v1.status).toBe(429);
    // OTLP/HTTP answers its errors as a google.rpc.Status (RESOURCE_EXHAUSTED), with the same Retry-After
    const otlp = await push(0, '/v1/metrics', { key: KEY_1, body: '{"resourceMetrics":[]}', from });
    expect(otlp.status).toBe(429);
    expect(Number(otlp.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await otlp.json()).toMatchObject({ code: 8, message: expect.stringContaining('ingest-key') });
    // refused before the body is read: a body over MAX_BODY_BYTES is a 429, not a 413
    const big = await push(0, '/api/v2/write', { key: KEY_1, body: 'x'.repeat(100 * 1024), from });
    expect(big.status).toBe(429);

    // another key from the same address has its own budget
    const other = await push(1, '/api/v2/write?precision=ms', { key: KEY_2, body: `cpu,agent_id=rl-${RUN} v=2 ${Date.now()}`, from });
    expect(other.status).toBe(204);
    expect(parseRateLimit(other.headers.get('ratelimit'))['ingest-key']).toBe(4);
    console.log(`[rate-limit] ingest key over replicas A,B: ${statuses.join(',')}; RateLimit ingest-key r: ${answers.map((r) => parseRateLimit(r.headers.get('ratelimit'))['ingest-key']).join(',')}; Retry-After ${wait} s; v2/v1 write ${v2.status}/${v1.status}; oversized body ${big.status}; second key ${other.status}`);

    const metrics = await (await fetch(`${replicas[0]!.url}/metrics`)).text();
    expect(metrics).toMatch(/agentmon_rate_limit_decisions_total\{budget="ingest-key",outcome="limited"[^}]*\} [1-9]/);
  });

  it('charges requests without a valid key to the address, and leaves the probes alone', async () => {
    const from = address(2);
    const statuses = [];
    for (let i = 0; i < 22; i++) statuses.push((await push(i, '/api/v2/ingest', { body: batch, from })).status);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429]);
    const live = await fetch(`${replicas[0]!.url}/health/live`, { headers: { 'x-forwarded-for': from } });
    expect(live.status).toBe(200);
    expect(live.headers.get('ratelimit')).toBeNull();
  });
});
