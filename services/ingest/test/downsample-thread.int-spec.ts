/**
 * The built ingest service (services/ingest/dist, as `npm start` and the Helm chart run it) downsamples
 * in its worker thread. The other integration tests run the service from its sources, where no worker
 * thread can load TypeScript and the work stays on the caller's thread; this one starts the service
 * from dist (npm test builds before the integration tests) against the test profile's NATS, Redis and
 * InfluxDB, and runs a downsampling run of it.
 */
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { INestApplication } from '@nestjs/common';
import { createLogger } from '@agentmon/observability';
import { TEST_INFRA } from '../../../test/support/test-env.js';
import { ingestTestEnv } from './support/ingest-env.js';

type IngestApp = typeof import('../src/ingest-app.js');
type Config = typeof import('../src/config.js');
type Downsampler = typeof import('../src/downsample/downsampler.service.js');
type Aggregate = typeof import('../src/downsample/aggregate-group.js');
type Thread = typeof import('../src/downsample/aggregator-thread.js');
type Metrics = typeof import('../src/stats/ingest-metrics.js');

const DB = 'agentmon_int_downsample_thread';
const M = 60_000;
const RUN = Date.now().toString(36);
const dist = (path: string) => new URL(`../dist/${path}`, import.meta.url);

async function influxql(q: string): Promise<{ results: { series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[] }[] }> {
  const res = await fetch(`${TEST_INFRA.influxUrl}/query`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ q, db: DB, epoch: 'ms' }).toString() });
  return (await res.json()) as never;
}

let app: INestApplication;
let redis: Redis;
let built: { downsampler: Downsampler; aggregate: Aggregate; thread: Thread; metrics: Metrics };

beforeAll(async () => {
  if (!existsSync(dist('downsample/aggregate.worker.js'))) throw new Error(`${dist('').pathname} is missing or old: build the ingest service first (npm test does)`);
  // one at a time: Jest's module loader trips over imports in parallel
  const load = <T>(path: string) => import(dist(path).pathname) as Promise<T>;
  const ingestApp = await load<IngestApp>('ingest-app.js');
  const config = await load<Config>('config.js');
  built = {
    downsampler: await load<Downsampler>('downsample/downsampler.service.js'),
    aggregate: await load<Aggregate>('downsample/aggregate-group.js'),
    thread: await load<Thread>('downsample/aggregator-thread.js'),
    metrics: await load<Metrics>('stats/ingest-metrics.js'),
  };
  await influxql(`DROP DATABASE "${DB}"`);
  redis = new Redis(TEST_INFRA.redisUrl);
  await redis.del(built.downsampler.downsampleDoneKey(DB));
  const cfg = config.loadIngestConfig(ingestTestEnv(DB));
  app = await ingestApp.startIngest(cfg, createLogger('ingest', cfg.LOG_LEVEL));
}, 60_000);

afterAll(async () => {
  await app?.close();
  await redis?.quit();
  await influxql(`DROP DATABASE "${DB}"`);
});

describe('the built ingest service', () => {
  it('downsamples in its worker thread, and writes the aggregates', async () => {
    expect(built.thread.RUNS_BUILT).toBe(true);
    expect(app.get(built.aggregate.GROUP_AGGREGATOR)).toBeInstanceOf(built.thread.AggregatorThread);
    const minute = Math.floor(Date.now() / M) * M - 3 * M;
    const m = `thread_${RUN}`;
    const lines = [`${m},agent_id=t-a-${RUN} v=1,n=2i ${minute + 1000}`, `${m},agent_id=t-a-${RUN} v=3,n=4i ${minute + 30_000}`, `${m},agent_id=t-b-${RUN} v=10 ${minute + M + 1}`];
    const res = await fetch(`${TEST_INFRA.influxUrl}/write?db=${DB}&rp=raw&precision=ms`, { method: 'POST', body: lines.join('\n') });
    expect(res.status).toBe(204);

    expect(await app.get(built.downsampler.DownsamplerService).run('agg_1m')).toBe('ok');
    const stored = (await influxql(`SELECT * FROM "agg_1m"."${m}" GROUP BY "agent_id"`)).results[0]!.series!;
    expect(stored.map((s) => [s.tags!.agent_id, Object.fromEntries(s.columns.map((c, i) => [c, s.values[0]![i]]))])).toEqual([
      [`t-a-${RUN}`, { time: minute, count_n: 2, count_v: 2, max_n: 4, max_v: 3, mean_n: 3, mean_v: 2, min_n: 2, min_v: 1, sum_n: 6, sum_v: 4 }],
      [`t-b-${RUN}`, { time: minute + M, count_n: null, count_v: 1, max_n: null, max_v: 10, mean_n: null, mean_v: 10, min_n: null, min_v: 10, sum_n: null, sum_v: 10 }],
    ]);
    const groups = (await app.get<ReturnType<Metrics['ingestMetrics']>>(built.metrics.INGEST_METRICS).downsampleGroups.get()).values;
    expect(groups.filter((v) => v.labels.level === 'agg_1m').map((v) => [v.labels.by, v.value])).toEqual([['ingest', 1]]);
  });
});
