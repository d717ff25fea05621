/**
 * The gateway's metric and dashboard routes in-process against the real test NATS and Redis, with
 * auth, registry and ingest answered by doubles at the NATS boundary (real typed RPC handlers, so
 * requests and replies are checked against the contract's schemas). What ingest computes is tested
 * in services/ingest; here: validation, the requests sent to ingest, Redis caching, degradation.
 */
import { Controller, Module, type INestApplication, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { Redis } from 'ioredis';
import { AppError, type AggregateResult, type LatestResult, type RpcParsedRequest } from '@agentmon/contracts';
import { bootstrapService } from '@agentmon/http-kit';
import { RpcHandler } from '@agentmon/messaging';
import { createLogger } from '@agentmon/observability';
import { INTEGRATION_PORTS, TEST_INFRA } from '../../../test/support/test-env.js';
import { AppModule } from '../src/app.module.js';
import { GatewayConfigSchema } from '../src/config.js';
import { configureHttp } from '../src/http/configure-http.js';
import { registerApiKey, signToken, startFakeServices } from './fake-services.js';

const API = `http://127.0.0.1:${INTEGRATION_PORTS.gateway}/api/v2`;
const INGEST_KEY = 'amk_metricsTestIngestOnlyKey0000000000001';

const seenIngest = {
  aggregate: [] as RpcParsedRequest<'rpc.ingest.metrics.aggregate.v1'>[],
  latest: [] as RpcParsedRequest<'rpc.ingest.metrics.latest.v1'>[],
  latestDown: false,
};

@Controller()
class FakeIngestController {
  @RpcHandler('rpc.ingest.metrics.aggregate.v1')
  async aggregate(req: RpcParsedRequest<'rpc.ingest.metrics.aggregate.v1'>): Promise<AggregateResult> {
    seenIngest.aggregate.push(req);
    const to = Date.UTC(2026, 10, 27, 12);
    return {
      timerange: req.timerange,
      measurement: req.measurement,
      fn: req.fn,
      group_by: req.group_by ? (req.group_by.kind === 'agent' ? 'agent' : `tag:${req.group_by.key}`) : null,
      interval: '5s',
      source: 'raw',
      from: new Date(to - 3_600_000).toISOString(),
      to: new Date(to).toISOString(),
      series: req.fields.map((field, i) => ({ field, group: {}, value: 10 + i, points: [[new Date(to - 5000).toISOString(), 10 + i]] as [string, number][] })),
      truncated: false,
    };
  }

  @RpcHandler('rpc.ingest.metrics.latest.v1')
  async latest(req: RpcParsedRequest<'rpc.ingest.metrics.latest.v1'>): Promise<LatestResult> {
    seenIngest.latest.push(req);
    if (seenIngest.latestDown) throw new AppError('unavailable', 'Redis is down');
    return {
      items: req.agent_ids.map((agent_id): LatestResult['items'][number] =>
        agent_id === 'agent-7'
          ? {
              agent_id,
              measurements: {
                agent_metrics: { cpu_usage: { value: 45.2, time: '2026-11-27T12:00:00.000Z' }, memory_usage: { value: 67.3, time: '2026-11-27T12:00:00.000Z' } },
                performance_metrics: { error_rate: { value: 0.02, time: '2026-11-27T11:59:50.000Z' } },
              },
            }
          : { agent_id, measurements: {} },
      ),
    };
  }
}
@Module({ controllers: [FakeIngestController] })
class FakeIngestModule {}

async function get(path: string, token?: string) {
  const res = await fetch(`${API}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
}

describe('gateway metric and dashboard routes (doubles of auth, registry and ingest on NATS)', () => {
  let gateway: INestApplication;
  let fakes: INestMicroservice;
  let ingest: INestMicroservice;
  let redis: Redis;
  let viewer: string;

  beforeAll(async () => {
    redis = new Redis(TEST_INFRA.redisUrl);
    const stale = await redis.keys('agentmon:gateway:cache:*');
    if (stale.length) await redis.del(...stale);
    fakes = await startFakeServices(TEST_INFRA.natsUrl);
    ingest = await NestFactory.createMicroservice<MicroserviceOptions>(FakeIngestModule, {
      transport: Transport.NATS,
      options: { servers: [TEST_INFRA.natsUrl], queue: 'gateway-metrics-ingest-double' } as never,
      logger: false,
    });
    await ingest.listen();
    const config = GatewayConfigSchema.parse({
      PORT: String(INTEGRATION_PORTS.gateway),
      HTTP_HOST: '127.0.0.1',
      NATS_URL: TEST_INFRA.natsUrl,
      REDIS_URL: TEST_INFRA.redisUrl,
      LOG_LEVEL: 'silent',
      RPC_TIMEOUT_MS: '3000',
    });
    const logger = createLogger('gateway-test', 'silent');
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
    viewer = await signToken({ role: 'viewer' });
    registerApiKey(INGEST_KEY, { user_id: 'user-operator', username: 'pusher', role: 'operator', permissions: ['ingest:write'] });
  }, 30_000);

  afterAll(async () => {
    await gateway?.close();
    await fakes?.close();
    await ingest?.close();
    await redis?.quit();
  });

  describe('GET /metrics/aggregate/{timerange}', () => {
    it('asks ingest for the function per tag value and caches the answer in Redis', async () => {
      const path = '/metrics/aggregate/1h?measurement=ai_metrics&field=cost&fn=sum&group_by=tag:model&interval=5m';
      const first = await get(path, viewer);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ timerange: '1h', measurement: 'ai_metrics', fn: 'sum', group_by: 'tag:model', series: [{ field: 'cost', value: 10 }] });
      expect(seenIngest.aggregate.at(-1)).toEqual({ timerange: '1h', measurement: 'ai_metrics', fields: ['cost'], fn: 'sum', group_by: { kind: 'tag', key: 'model' }, interval: '5m' });
      const asked = seenIngest.aggregate.length;
      const second = await get(path, viewer);
      expect(second.body).toEqual(first.body);
      expect(seenIngest.aggregate.length).toBe(asked);
      const keys = await redis.keys('agentmon:gateway:cache:aggregate:*');
      expect(keys.length).toBeGreaterThan(0);
      const ttl = await redis.pttl(keys[0]!);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(10_000);

      // defaults: agent_metrics, mean, the whole fleet
      await get('/metrics/aggregate/24h?field=cpu_usage&group_by=agent', viewer);
      expect(seenIngest.aggregate.at(-1)).toEqual({ timerange: '24h', measurement: 'agent_metrics', fields: ['cpu_usage'], fn: 'mean', group_by: { kind: 'agent' } });
    });

    it('answers 400 for grouping by agent group, which does not exist yet', async () => {
      const res = await get('/metrics/aggregate/1h?field=cpu_usage&group_by=group', viewer);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, message: 'grouping by group is not available yet', details: [{ path: 'group_by' }] });
    });

    it('answers 400 naming the bad parameter, 401 without credentials, 403 for an ingest-only key', async () => {
      const cases: [string, string][] = [
        ['/metrics/aggregate/2h?field=cpu_usage', 'timerange'],
        ['/metrics/aggregate/1h?field=cpu_usage&fn=median', 'fn'],
        ['/metrics/aggregate/1h', 'field'],
        ['/metrics/aggregate/1h?field=cpu_usage&group_by=region', 'group_by'],
        ['/metrics/aggregate/1h?field=cpu_usage&interval=soon', 'interval'],
      ];
      for (const [path, field] of cases) {
        const res = await get(path, viewer);
        expect([path, res.status]).toEqual([path, 400]);
        expect(JSON.stringify(res.body.details)).toContain(field);
      }
      expect((await get('/metrics/aggregate/1h?field=cpu_usage')).status).toBe(401);
      const ingestOnly = await fetch(`${API}/metrics/aggregate/1h?field=cpu_usage`, { headers: { 'x-api-key': INGEST_KEY } });
      expect(ingestOnly.status).toBe(403);
    });
  });

  describe('GET /dashboard/metrics/{timerange}', () => {
    it('gathers the fleet series of the dashboard measurements, once per cache period', async () => {
      const before = seenIngest.aggregate.length;
      const res = await get('/dashboard/metrics/6h', viewer);
      expect(res.status).toBe(200);
      const asked = seenIngest.aggregate.slice(before);
      expect(asked.map((r) => [r.measurement, r.fn, r.fields])).toEqual([
        ['agent_metrics', 'mean', ['cpu_usage', 'memory_usage']],
        ['performance_metrics', 'mean', ['error_rate', 'response_time']],
        ['performance_metrics', 'sum', ['tasks_completed']],
        ['ai_metrics', 'mean', ['inference_time', 'accuracy']],
        ['ai_metrics', 'sum', ['tokens_in', 'tokens_out', 'cost']],
      ]);
      expect(asked.every((r) => r.timerange === '6h' && r.group_by === undefined)).toBe(true);
      expect(res.body).toMatchObject({ timerange: '6h', interval: '5s', generated_at: expect.any(String) });
      expect(res.body.series.map((s: { measurement: string; field: string; fn: string }) => `${s.measurement}.${s.field}:${s.fn}`)).toEqual([
        'agent_metrics.cpu_usage:mean',
        'agent_metrics.memory_usage:mean',
        'performance_metrics.error_rate:mean',
        'performance_metrics.response_time:mean',
        'performance_metrics.tasks_completed:sum',
        'ai_metrics.inference_time:mean',
        'ai_metrics.accuracy:mean',
        'ai_metrics.tokens_in:sum',
        'ai_metrics.tokens_out:sum',
        'ai_metrics.cost:sum',
      ]);
      expect((await get('/dashboard/metrics/6h', viewer)).body).toEqual(res.body);
      expect(seenIngest.aggregate.length).toBe(before + 5);
      expect((await get('/dashboard/metrics/forever', viewer)).status).toBe(400);
    });
  });

  describe('GET /dashboard/agents/summary', () => {
    it('joins a page of agents with their latest values; degrades to nulls (uncached) when ingest fails', async () => {
      seenIngest.latestDown = true;
      const degraded = await get('/dashboard/agents/summary?limit=2&status=online', viewer);
      expect(degraded.status).toBe(200);
      expect(degraded.body.unavailable).toEqual(['ingest']);
      expect(degraded.body.items[0]).toMatchObject({ id: 'agent-7', cpu_usage: null, memory_usage: null, error_rate: null });

      seenIngest.latestDown = false;
      const res = await get('/dashboard/agents/summary?limit=2&status=online', viewer);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        items: [
          {
            id: 'agent-7',
            name: 'Agent agent-7',
            status: 'online',
            last_seen: expect.any(String),
            cpu_usage: { value: 45.2, time: '2026-11-27T12:00:00.000Z' },
            memory_usage: { value: 67.3, time: '2026-11-27T12:00:00.000Z' },
            error_rate: { value: 0.02, time: '2026-11-27T11:59:50.000Z' },
          },
          { id: 'agent-8', name: 'Agent agent-8', status: 'offline', last_seen: expect.any(String), cpu_usage: null, memory_usage: null, error_rate: null },
        ],
        next_cursor: 'opaque-next',
        unavailable: [],
      });
      expect(seenIngest.latest.at(-1)).toEqual({ agent_ids: ['agent-7', 'agent-8'], measurements: ['agent_metrics', 'performance_metrics'] });
      const asked = seenIngest.latest.length;
      expect((await get('/dashboard/agents/summary?limit=2&status=online', viewer)).body).toEqual(res.body);
      expect(seenIngest.latest.length).toBe(asked);
      expect((await get('/dashboard/agents/summary?limit=0', viewer)).status).toBe(400);
    });
  });
});
