/**
 * Aggregates, latest values and downsampling: the ingest service in-process against the test
 * profile's NATS, Redis and InfluxDB. Points go in
 * through the public push API and the real writer; auth is a test double at the NATS boundary.
 */
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { Controller, Module, type INestApplication, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport } from '@nestjs/microservices';
import { Redis } from 'ioredis';
import { AppError, type Principal, type RpcParsedRequest } from '@agentmon/contracts';
import { RpcClient, RpcHandler } from '@agentmon/messaging';
import { createLogger } from '@agentmon/observability';
import { INTEGRATION_PORTS, TEST_INFRA } from '../../../test/support/test-env.js';
import { resetStreams } from '../../../test/support/nats.js';
import { ingestTestEnv } from './support/ingest-env.js';
import { loadIngestConfig } from '../src/config.js';
import { startIngest } from '../src/ingest-app.js';
import { DownsamplerService, downsampleDoneKey, downsampleLockKey } from '../src/downsample/downsampler.service.js';
import { backfillKey } from '../src/downsample/backfill-marks.service.js';
import { downsampleLevels, downsampleStatement, rawPointsStatement } from '../src/downsample/downsample-plan.js';
import { BucketAggregator } from '../src/downsample/bucket-aggregator.js';
import { InProcessAggregator, type AggregateJob } from '../src/downsample/aggregate-group.js';
import { AggregatorThread } from '../src/downsample/aggregator-thread.js';
import { InfluxClient, InfluxError } from '../src/influx/influx.client.js';
import { INGEST_METRICS, type IngestMetrics } from '../src/stats/ingest-metrics.js';

const DB = 'agentmon_int_queries';
const BASE = `http://127.0.0.1:${INTEGRATION_PORTS.ingest}`;
const KEY = 'amk_queriesTestKeyForTheIngestService_0001';
const RUN = Date.now().toString(36);
const M = 60_000;
const H = 60 * M;
const D = 24 * H;

@Controller()
class AuthDouble {
  @RpcHandler('rpc.auth.api-key.verify.v1')
  async verify(req: RpcParsedRequest<'rpc.auth.api-key.verify.v1'>): Promise<Principal> {
    if (req.key !== KEY) throw new AppError('unauthorized', 'API key is not valid');
    return { kind: 'api_key', id: 'key-queries', user_id: 'u-1', username: 'ci', role: 'operator', permissions: ['ingest:write'] };
  }
}
@Module({ controllers: [AuthDouble] })
class DoublesModule {}

type Row = Record<string, unknown>;
async function influxql(q: string): Promise<{ results: { series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]; error?: string }[] }> {
  const res = await fetch(`${TEST_INFRA.influxUrl}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ q, db: DB, epoch: 'ms' }).toString(),
  });
  return (await res.json()) as never;
}
async function rowsOf(q: string): Promise<Row[]> {
  const out: Row[] = [];
  for (const s of (await influxql(q)).results[0]?.series ?? []) {
    for (const v of s.values) out.push({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) });
  }
  return out;
}
async function push(agent: string, points: unknown[]): Promise<void> {
  const res = await fetch(`${BASE}/api/v2/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY },
    body: JSON.stringify({ agent: { id: agent }, points }),
  });
  if (res.status !== 202) throw new Error(`push answered ${res.status}: ${await res.text()}`);
}
async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000, stepMs = 200): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = await fn();
  while (!ok(last) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, stepMs));
    last = await fn();
  }
  return last;
}
async function writeLines(rp: string, lines: string[]): Promise<void> {
  const res = await fetch(`${TEST_INFRA.influxUrl}/write?db=${DB}&rp=${rp}&precision=ms`, { method: 'POST', body: lines.join('\n') });
  if (res.status !== 204) throw new Error(`write answered ${res.status}: ${await res.text()}`);
}

let app: INestApplication;
let doubles: INestMicroservice;
let rpc: RpcClient;
let redis: Redis;

// Downsampling input, pushed first:
// two agents, three points each in one minute a few minutes ago, a string field that only count keeps.
const DS = `downsampled_${RUN}`;
const dsMinute = Math.floor(Date.now() / M) * M - 3 * M;
const dsAgents = { a: `ds-a-${RUN}`, b: `ds-b-${RUN}` };

beforeAll(async () => {
  await influxql(`DROP DATABASE "${DB}"`);
  await resetStreams(TEST_INFRA.natsUrl);
  redis = new Redis(TEST_INFRA.redisUrl);
  await redis.del(downsampleDoneKey(DB), backfillKey(DB, 'agg_1m'), `${backfillKey(DB, 'agg_1m')}:at`, backfillKey(DB, 'agg_1h'), `${backfillKey(DB, 'agg_1h')}:at`);
  doubles = await NestFactory.createMicroservice(DoublesModule, {
    transport: Transport.NATS,
    options: { servers: [TEST_INFRA.natsUrl], queue: 'ingest-queries-doubles' },
    logger: false,
  } as never);
  await doubles.listen();
  const config = loadIngestConfig(
    ingestTestEnv(DB, {
      WRITE_FLUSH_MS: '100',
      // one agent per downsampling query, so that each agent's points are a group of their own
      DOWNSAMPLE_AGENTS_PER_QUERY: '1',
    }),
  );
  app = await startIngest(config, createLogger('ingest', config.LOG_LEVEL));
  rpc = new RpcClient(TEST_INFRA.natsUrl, 10_000, 'ingest-queries-test');
  await rpc.connect();

  await push(dsAgents.a, [
    { measurement: DS, fields: { cpu: 10, state: 'idle' }, tags: { core: 'all' }, time: dsMinute + 5_000 },
    { measurement: DS, fields: { cpu: 20, state: 'busy' }, tags: { core: 'all' }, time: dsMinute + 25_000 },
    { measurement: DS, fields: { cpu: 60, state: 'busy' }, tags: { core: 'all' }, time: dsMinute + 45_000 },
  ]);
  await push(dsAgents.b, [{ measurement: DS, fields: { cpu: 100, state: 'idle' }, tags: { core: 'all' }, time: dsMinute + 30_000 }]);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await doubles?.close();
  await rpc?.close();
  await redis?.quit();
});

describe('aggregate queries', () => {
  // three agents in two regions, four points each in the last 15 minutes
  const measurement = `agg_raw_${RUN}`;
  const t0 = Date.now() - 10 * M;
  const agents = [
    { id: `agg-a-${RUN}`, region: 'eu', values: [10, 20, 30, 40] },
    { id: `agg-b-${RUN}`, region: 'eu', values: [50, 60, 70, 80] },
    { id: `agg-c-${RUN}`, region: 'us', values: [1, 2, 3, 94] },
  ];
  const all = agents.flatMap((a) => a.values);
  const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

  beforeAll(async () => {
    for (const a of agents) {
      await push(
        a.id,
        a.values.map((v, i) => ({ measurement, fields: { latency: v, ok: v % 2 === 0, note: `n${v}` }, tags: { region: a.region }, time: t0 + i * 1000 })),
      );
    }
    await eventually(() => rowsOf(`SELECT count("latency") FROM "${DB}"."raw"."${measurement}"`), (r) => r[0]?.count === 12);
  });

  it('computes every function over raw points for the fleet, per agent and per tag value', async () => {
    const fleet = await rpc.request('rpc.ingest.metrics.aggregate.v1', { timerange: '15m', measurement, fields: ['latency'], fn: 'mean' });
    expect(fleet).toMatchObject({ timerange: '15m', measurement, fn: 'mean', group_by: null, source: 'raw', interval: '5s', truncated: false });
    expect(fleet.series).toHaveLength(1);
    expect(fleet.series[0]).toMatchObject({ field: 'latency', group: {}, value: sum(all) / 12 });
    // the four points fall in one 5 s interval of the series (t0 .. t0+3s may straddle two)
    const nonNull = fleet.series[0]!.points.filter(([, v]) => v !== null);
    expect(nonNull.length).toBeGreaterThanOrEqual(1);
    expect(fleet.series[0]!.points.length).toBeLessThanOrEqual(181);

    const fns = { mean: (xs: number[]) => sum(xs) / xs.length, min: (xs: number[]) => Math.min(...xs), max: (xs: number[]) => Math.max(...xs), sum, count: (xs: number[]) => xs.length };
    for (const [fn, f] of Object.entries(fns)) {
      const perAgent = await rpc.request('rpc.ingest.metrics.aggregate.v1', { timerange: '15m', measurement, fields: ['latency'], fn: fn as 'mean', group_by: { kind: 'agent' } });
      expect(perAgent.group_by).toBe('agent');
      expect(perAgent.series.map((s) => [s.group, s.value])).toEqual(agents.map((a) => [{ agent_id: a.id }, f(a.values)]));
    }
    const perRegion = await rpc.request('rpc.ingest.metrics.aggregate.v1', { timerange: '1h', measurement, fields: ['latency'], fn: 'max', group_by: { kind: 'tag', key: 'region' } });
    expect(perRegion.group_by).toBe('tag:region');
    expect(perRegion.series.map((s) => [s.group, s.value])).toEqual([
      [{ region: 'eu' }, 80],
      [{ region: 'us' }, 94],
    ]);
    // p95 of the raw values (InfluxDB's nearest-rank percentile)
    const p95 = await rpc.request('rpc.ingest.metrics.aggregate.v1', { timerange: '15m', measurement, fields: ['latency'], fn: 'p95' });
    const sorted = [...all].sort((x, y) => x - y);
    expect(p95.series[0]!.value).toBe(sorted[Math.floor(0.95 * sorted.length + 0.5) - 1]);
    // count works on every type; the other functions need numbers
    const counted = await rpc.request('rpc.ingest.metrics.aggregate.v1', { timerange: '15m', measurement, fields: ['note', 'ok'], fn: 'count' });
    expect(counted.series.map((s) => [s.field, s.value])).toEqual([
      ['note', 12],
      ['ok', 12],
    ]);
    await expect(rpc.request('rpc.ingest.metrics.aggregate.v1', { timerange: '15m', measurement, fields: ['note'], fn: 'mean' })).rejects.toMatchObject({
      statusCode: 400,
      details: [{ path: 'field', reason: expect.stringContaining('only count works') }],
    });
  });

  it('refuses an interval that gives too many points, and answers an unknown measurement with empty series', async () => {
    await expect(rpc.request('rpc.ingest.metrics.aggregate.v1', { timerange: '24h', measurement, fields: ['latency'], fn: 'mean', interval: '1s' })).rejects.toMatchObject({
      statusCode: 400,
      details: [{ path: 'interval', reason: expect.any(String) }],
    });
    const none = await rpc.request('rpc.ingest.metrics.aggregate.v1', { timerange: '1h', measurement: `nothing_${RUN}`, fields: ['x'], fn: 'mean' });
    expect(none.series).toEqual([{ field: 'x', group: {}, value: null, points: [] }]);
    const noneByAgent = await rpc.request('rpc.ingest.metrics.aggregate.v1', { timerange: '1h', measurement: `nothing_${RUN}`, fields: ['x'], fn: 'mean', group_by: { kind: 'agent' } });
    expect(noneByAgent.series).toEqual([]);
  });

  it('reads the 1-hour aggregates for long ranges: weighted mean, exact min/max/sum/count', async () => {
    const m = `agg_long_${RUN}`;
    const hour = Math.floor(Date.now() / H) * H;
    const lines: string[] = [];
    // 20 days of hours for two agents: agent x has 1 point per hour of value h%10, agent y 3 points of 100
    const expect_ = { x: { sum: 0, count: 0, min: Infinity, max: -Infinity }, y: { sum: 0, count: 0, min: Infinity, max: -Infinity } };
    for (let h = 1; h <= 20 * 24; h++) {
      const t = hour - h * H;
      const vx = h % 10;
      lines.push(`${m},agent_id=x-${RUN} mean_v=${vx},min_v=${vx},max_v=${vx},count_v=1,sum_v=${vx} ${t}`);
      lines.push(`${m},agent_id=y-${RUN} mean_v=100,min_v=90,max_v=110,count_v=3,sum_v=300 ${t}`);
      Object.assign(expect_.x, { sum: expect_.x.sum + vx, count: expect_.x.count + 1, min: Math.min(expect_.x.min, vx), max: Math.max(expect_.x.max, vx) });
      Object.assign(expect_.y, { sum: expect_.y.sum + 300, count: expect_.y.count + 3, min: 90, max: 110 });
    }
    await writeLines('agg_1h', lines);
    const q = (fn: 'mean' | 'min' | 'max' | 'sum' | 'count', timerange: '30d' | '1y' = '30d') =>
      rpc.request('rpc.ingest.metrics.aggregate.v1', { timerange, measurement: m, fields: ['v'], fn, group_by: { kind: 'agent' } });
    const mean = await q('mean');
    expect(mean).toMatchObject({ source: 'agg_1h', interval: '3h' });
    expect(mean.series.map((s) => s.value)).toEqual([expect_.x.sum / expect_.x.count, expect_.y.sum / expect_.y.count]);
    expect((await q('min')).series.map((s) => s.value)).toEqual([expect_.x.min, expect_.y.min]);
    expect((await q('max')).series.map((s) => s.value)).toEqual([expect_.x.max, expect_.y.max]);
    expect((await q('sum')).series.map((s) => s.value)).toEqual([expect_.x.sum, expect_.y.sum]);
    expect((await q('count', '1y')).series.map((s) => s.value)).toEqual([expect_.x.count, expect_.y.count]);
    // the fleet's mean weighs each hour by its points: (sum x + sum y) / (count x + count y)
    const fleet = await rpc.request('rpc.ingest.metrics.aggregate.v1', { timerange: '1y', measurement: m, fields: ['v'], fn: 'mean' });
    expect(fleet).toMatchObject({ source: 'agg_1h', interval: '2d' });
    expect(fleet.series[0]!.value).toBeCloseTo((expect_.x.sum + expect_.y.sum) / (expect_.x.count + expect_.y.count), 10);
    // a finer interval than the aggregates hold reads the next finer source
    expect(await rpc.request('rpc.ingest.metrics.aggregate.v1', { timerange: '30d', measurement: m, fields: ['v'], fn: 'mean', interval: '30m' })).toMatchObject({ source: 'agg_1m', interval: '30m' });
  });
});

describe('latest values per agent (Redis)', () => {
  it('keeps the newest value of each field of each measurement, whatever order points arrive in', async () => {
    const agent = `latest-${RUN}`;
    const now = Date.now();
    await push(agent, [
      { measurement: 'agent_metrics', fields: { cpu_usage: 40, memory_usage: 50 }, time: now - 2000 },
      { measurement: 'agent_metrics', fields: { cpu_usage: 45 }, time: now - 1000 },
      { measurement: 'performance_metrics', fields: { error_rate: 0.5, healthy: true, mode: 'fast' }, time: now - 1500 },
    ]);
    const read = () => rpc.request('rpc.ingest.metrics.latest.v1', { agent_ids: [agent, `never-${RUN}`] });
    const first = await eventually(read, (r) => r.items[0]?.measurements.performance_metrics !== undefined);
    expect(first.items).toEqual([
      {
        agent_id: agent,
        measurements: {
          agent_metrics: { cpu_usage: { value: 45, time: new Date(now - 1000).toISOString() }, memory_usage: { value: 50, time: new Date(now - 2000).toISOString() } },
          performance_metrics: {
            error_rate: { value: 0.5, time: new Date(now - 1500).toISOString() },
            healthy: { value: true, time: new Date(now - 1500).toISOString() },
            mode: { value: 'fast', time: new Date(now - 1500).toISOString() },
          },
        },
      },
      { agent_id: `never-${RUN}`, measurements: {} },
    ]);
    // an older point arriving later does not replace a newer value; a newer one does
    await push(agent, [{ measurement: 'agent_metrics', fields: { cpu_usage: 1, memory_usage: 55 }, time: now - 5000 }]);
    await push(agent, [{ measurement: 'agent_metrics', fields: { memory_usage: 60 }, time: now }]);
    const later = await eventually(read, (r) => r.items[0]?.measurements.agent_metrics?.memory_usage?.value === 60);
    expect(later.items[0]!.measurements.agent_metrics).toEqual({
      cpu_usage: { value: 45, time: new Date(now - 1000).toISOString() },
      memory_usage: { value: 60, time: new Date(now).toISOString() },
    });
    const only = await rpc.request('rpc.ingest.metrics.latest.v1', { agent_ids: [agent], measurements: ['performance_metrics'] });
    expect(Object.keys(only.items[0]!.measurements)).toEqual(['performance_metrics']);
    // one hash per agent, expiring
    expect(await redis.pttl(`agentmon:ingest:latest:${agent}`)).toBeGreaterThan(6 * D);
  });
});

describe('retention and downsampling', () => {
  const downsampler = () => app.get(DownsamplerService);
  const doneKey = () => downsampleDoneKey(DB);

  it('a run of the 1-minute level computes mean, min, max, count and sum per agent, minute and tag into agg_1m, which long-range queries then read', async () => {
    await eventually(() => rowsOf(`SELECT count("cpu") FROM "${DB}"."raw"."${DS}"`), (r) => r[0]?.count === 4);
    expect(await downsampler().run('agg_1m')).toBe('ok');
    const rows = await rowsOf(`SELECT * FROM "${DB}"."agg_1m"."${DS}" GROUP BY *`);
    const a = rows.find((r) => r.agent_id === dsAgents.a);
    expect(a).toMatchObject({ time: dsMinute, core: 'all', mean_cpu: 30, min_cpu: 10, max_cpu: 60, count_cpu: 3, sum_cpu: 90, count_state: 3 });
    expect(a!.mean_state).toBeUndefined();
    expect(rows.find((r) => r.agent_id === dsAgents.b)).toMatchObject({ time: dsMinute, mean_cpu: 100, min_cpu: 100, max_cpu: 100, count_cpu: 1 });
    // the run is recorded, so the next one starts shortly before it
    expect(Number(await redis.hget(doneKey(), 'agg_1m'))).toBeGreaterThan(Date.now() - M);

    // 7 days read agg_1m: the same numbers come back through the aggregate query
    const week = await rpc.request('rpc.ingest.metrics.aggregate.v1', { timerange: '7d', measurement: DS, fields: ['cpu'], fn: 'mean', group_by: { kind: 'agent' } });
    expect(week.source).toBe('agg_1m');
    expect(week.series.map((s) => [s.group.agent_id, s.value])).toEqual([
      [dsAgents.a, 30],
      [dsAgents.b, 100],
    ]);
    // and the history of one agent over 7 days reads agg_1m too
    const history = await rpc.request('rpc.ingest.metrics.historical.v1', { agent_id: dsAgents.a, measurement: DS, from: Date.now() - 7 * D, to: Date.now() });
    expect(history.interval).toBe('15m');
    expect(history.series[0]!.points.filter(([, v]) => v !== null).map(([, v]) => v)).toEqual([30]);
  });

  it('a run of the 1-hour level fills agg_1h the same way', async () => {
    expect(await downsampler().run('agg_1h')).toBe('ok');
    const rows = await rowsOf(`SELECT * FROM "${DB}"."agg_1h"."${DS}" GROUP BY *`);
    expect(rows.find((r) => r.agent_id === dsAgents.a)).toMatchObject({ time: Math.floor(dsMinute / H) * H, core: 'all', mean_cpu: 30, min_cpu: 10, max_cpu: 60, count_cpu: 3, sum_cpu: 90, count_state: 3 });
    expect(rows.find((r) => r.agent_id === dsAgents.b)).toMatchObject({ mean_cpu: 100, count_cpu: 1, sum_cpu: 100 });
  });

  it('runs repeat harmlessly: a point that came late is counted by the next run, nothing twice', async () => {
    await push(dsAgents.a, [{ measurement: DS, fields: { cpu: 0, state: 'idle' }, tags: { core: 'all' }, time: dsMinute + 55_000 }]);
    await eventually(() => rowsOf(`SELECT count("cpu") FROM "${DB}"."raw"."${DS}"`), (r) => r[0]?.count === 5);
    expect(await downsampler().run('agg_1m')).toBe('ok');
    expect(await downsampler().run('agg_1m')).toBe('ok');
    const rows = await rowsOf(`SELECT * FROM "${DB}"."agg_1m"."${DS}" WHERE "agent_id" = '${dsAgents.a}' GROUP BY *`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ time: dsMinute, mean_cpu: 22.5, min_cpu: 0, max_cpu: 60, count_cpu: 4, sum_cpu: 90, count_state: 4 });
  });

  it('after an outage a run reaches back to where the last one began (up to the catch-up limit); without the gap it does not', async () => {
    const agent = `ds-old-${RUN}`;
    const oldMinute = Math.floor(Date.now() / M) * M - 2 * H;
    await writeLines('raw', [`${DS},agent_id=${agent},core=all cpu=7 ${oldMinute + 1000}`, `${DS},agent_id=${agent},core=all cpu=9 ${oldMinute + 2000}`]);
    const oldRows = () => rowsOf(`SELECT * FROM "${DB}"."agg_1m"."${DS}" WHERE "agent_id" = '${agent}' GROUP BY *`);
    // the last run began just now: this one covers the last minutes only
    await redis.hset(doneKey(), 'agg_1m', String(Date.now()));
    expect(await downsampler().run('agg_1m')).toBe('ok');
    expect(await oldRows()).toEqual([]);
    // the last run began 3 hours ago (ingest was down): this one covers the 3 hours
    await redis.hset(doneKey(), 'agg_1m', String(Date.now() - 3 * H));
    expect(await downsampler().run('agg_1m')).toBe('ok');
    expect(await oldRows()).toEqual([expect.objectContaining({ time: oldMinute, mean_cpu: 8, count_cpu: 2 })]);
  });

  it('points older than a run reaches (an agent flushing what it buffered offline) are marked when accepted and downsampled by the next run, for that agent', async () => {
    const agent = `ds-backfill-${RUN}`;
    const oldMinute = Math.floor(Date.now() / M) * M - 3 * H;
    await push(agent, [
      { measurement: DS, fields: { cpu: 5 }, tags: { core: 'all' }, time: oldMinute + 1000 },
      { measurement: DS, fields: { cpu: 7 }, tags: { core: 'all' }, time: oldMinute + 2000 },
    ]);
    // marked for both levels, with the time of its oldest point (the mark is sent once JetStream stored the batch, beside the answer)
    expect(Number(await eventually(() => redis.zscore(backfillKey(DB, 'agg_1m'), agent), (v) => v !== null))).toBe(oldMinute + 1000);
    expect(Number(await redis.zscore(backfillKey(DB, 'agg_1h'), agent))).toBe(oldMinute + 1000);
    await eventually(() => rowsOf(`SELECT count("cpu") FROM "${DB}"."raw"."${DS}" WHERE "agent_id" = '${agent}'`), (r) => r[0]?.count === 2);
    // the last run began just now, so the regular range does not reach back 3 hours; the run is asked
    // for 15 s from now, when the mark has settled (the writer had time to store what it marks)
    await redis.hset(doneKey(), 'agg_1m', String(Date.now()));
    expect(await downsampler().run('agg_1m', Date.now() + 15_000)).toBe('ok');
    expect(await rowsOf(`SELECT * FROM "${DB}"."agg_1m"."${DS}" WHERE "agent_id" = '${agent}' GROUP BY *`)).toEqual([
      expect.objectContaining({ time: oldMinute, mean_cpu: 6, min_cpu: 5, max_cpu: 7, count_cpu: 2 }),
    ]);
    expect(await redis.zscore(backfillKey(DB, 'agg_1m'), agent)).toBeNull();
    // the 1-hour level still has its mark until its own run
    expect(await redis.zscore(backfillKey(DB, 'agg_1h'), agent)).not.toBeNull();
  });

  it("the aggregates computed by the service are the ones InfluxDB's own statement computes, for every field type, tag and name", async () => {
    // floats, integers, booleans and strings; absent tags and fields; names to escape; two measurements;
    // an agent with an integer beyond 2^53, which the service leaves to InfluxDB's statement
    const mix = `${DS}_mix`;
    const agents = [`mix-a-${RUN}`, `mix b,${RUN}`, `mix-big-${RUN}`];
    const minute = Math.floor(Date.now() / M) * M - 3 * M;
    const lines = [
      `${mix},agent_id=${agents[0]},core=0 f=1.5,i=3i,b=true,s="x" ${minute + 1000}`,
      `${mix},agent_id=${agents[0]},core=0 f=-2.25,i=-7i,b=false ${minute + 2000}`,
      `${mix},agent_id=${agents[0]},core=0 f=0.1,i=4i ${minute + 3000}`,
      `${mix},agent_id=${agents[0]},core=0 f=0.2 ${minute + M + 1}`,
      `${mix},agent_id=${agents[0]},core=0 s="only a string" ${minute + 2 * M + 1}`,
      `${mix},agent_id=${agents[0]} f=1e+21,i=9007199254740991i ${minute + 5000}`,
      `${mix},agent_id=${agents[1].replace(/[ ,]/g, '\\$&')},core=1,zone=eu\\ west\\,1 f=3,b=true ${minute + 10_000}`,
      `${mix},agent_id=${agents[1].replace(/[ ,]/g, '\\$&')},core=1,zone=eu\\ west\\,1 f=4,b=true ${minute + M + 10_000}`,
      `${mix}\\ other,agent_id=${agents[0]} load=0.75,n=2i ${minute + 20_000}`,
      `${mix}\\ other,agent_id=${agents[0]} load=0.25,n=5i ${minute + 40_000}`,
      `${mix},agent_id=${agents[2]},core=0 f=1,i=9007199254740993i ${minute + 1000}`,
    ];
    await writeLines('raw', lines);
    const refDb = `${DB}_ref`;
    const ref = (q: string) => influxql(q.replaceAll(`"${DB}"`, `"${refDb}"`));
    await influxql(`DROP DATABASE "${refDb}"`);
    await influxql(`CREATE DATABASE "${refDb}" WITH DURATION 90d NAME "raw"`);
    await influxql(`CREATE RETENTION POLICY "agg_1m" ON "${refDb}" DURATION 365d REPLICATION 1`);
    const res = await fetch(`${TEST_INFRA.influxUrl}/write?db=${refDb}&rp=raw&precision=ms`, { method: 'POST', body: lines.join('\n') });
    expect(res.status).toBe(204);
    const level = downsampleLevels({ DOWNSAMPLE_1M_EVERY_MS: 5 * M, DOWNSAMPLE_1H_EVERY_MS: 30 * M })[0]!;
    const [refAnswer] = (await ref(downsampleStatement(DB, level, agents, minute - M, minute + 4 * M))).results;
    expect(refAnswer!.error).toBeUndefined();

    const groups = async () => {
      const values = (await app.get<IngestMetrics>(INGEST_METRICS).downsampleGroups.get()).values.filter((v) => v.labels.level === 'agg_1m');
      return { ingest: values.find((v) => v.labels.by === 'ingest')?.value ?? 0, influxdb: values.find((v) => v.labels.by === 'influxdb')?.value ?? 0 };
    };
    const before = await groups();
    await redis.hset(doneKey(), 'agg_1m', String(Date.now()));
    expect(await downsampler().run('agg_1m')).toBe('ok');
    // DOWNSAMPLE_AGENTS_PER_QUERY is 1 here: the big integer's group alone went to InfluxDB's statement
    const after = await groups();
    expect(after.influxdb - before.influxdb).toBe(1);
    expect(after.ingest - before.ingest).toBeGreaterThanOrEqual(2);
    const stored = `SELECT * FROM "${DB}"."agg_1m"./^${DS}_mix/ WHERE ${agents.map((a) => `"agent_id" = '${a}'`).join(' OR ')} GROUP BY *`;
    const ours = (await influxql(stored)).results[0]!.series;
    const theirs = (await ref(stored)).results[0]!.series;
    expect(ours).toHaveLength(5);
    expect(ours).toEqual(theirs);
    // the big integer's group came out of the statement: exactly, which JSON numbers could not carry
    const big = await fetch(`${TEST_INFRA.influxUrl}/query?db=${DB}&q=${encodeURIComponent(`SELECT "sum_i" FROM "agg_1m"."${mix}" WHERE "agent_id" = '${agents[2]}'`)}`);
    expect(await big.text()).toContain('9007199254740993');
    await influxql(`DROP DATABASE "${refDb}"`);
  });

  it('chunked reads: a series split over chunks aggregates as in one piece, and an error of InfluxDB is thrown', async () => {
    const m = `${DS}_chunks`;
    const minute = Math.floor(Date.now() / M) * M - 4 * M;
    await writeLines('raw', [1, 2, 3, 4, 5, 6, 7].map((k) => `${m},agent_id=chunky-${RUN} v=${k * 1.5} ${minute + k * 20_000}`));
    const influx = new InfluxClient({ url: TEST_INFRA.influxUrl, database: DB });
    const q = rawPointsStatement(DB, [`chunky-${RUN}`], minute, minute + 5 * M);
    const types = await influx.fieldTypes(DB, 'raw');
    expect(types.get(m)).toEqual(new Map([['v', new Set(['float'])]]));
    const linesWith = async (chunkSize: number) => {
      const agg = new BucketAggregator(M, types);
      let pieces = 0;
      await influx.queryChunked(q, (series) => void (pieces++, agg.add(series)), { db: DB, chunkSize });
      return { pieces, lines: agg.finish(), unsupported: agg.unsupported };
    };
    const whole = await linesWith(10_000);
    const split = await linesWith(2);
    expect(whole.pieces).toBe(1);
    expect(split.pieces).toBe(4);
    expect(split).toEqual({ ...whole, pieces: 4 });
    expect(whole.lines).toEqual([
      `${m},agent_id=chunky-${RUN} count_v=2i,mean_v=2.25,min_v=1.5,max_v=3,sum_v=4.5 ${minute}`,
      `${m},agent_id=chunky-${RUN} count_v=3i,mean_v=6,min_v=4.5,max_v=7.5,sum_v=18 ${minute + M}`,
      `${m},agent_id=chunky-${RUN} count_v=2i,mean_v=9.75,min_v=9,max_v=10.5,sum_v=19.5 ${minute + 2 * M}`,
    ]);
    await expect(influx.queryChunked('SELECT * FROM "no_such_db"."raw"."x"', () => undefined)).rejects.toThrow(/database not found: no_such_db/);
  });

  it('the downsampling thread (the built worker script) writes what the same job writes on the caller\'s thread; it hands back refusals and errors', async () => {
    // the service runs from sources here, where no worker can load TypeScript: this runs the built
    // worker of services/ingest/dist (npm test builds before the integration tests)
    const script = new URL('../dist/downsample/aggregate.worker.js', import.meta.url);
    if (!existsSync(script)) throw new Error(`${script.pathname} is missing: build the ingest service first (npm test does)`);
    const m = `${DS}_thread`;
    const agents = [`thread-a-${RUN}`, `thread-b-${RUN}`];
    const minute = Math.floor(Date.now() / M) * M - 4 * M;
    await writeLines('raw', [
      `${m},agent_id=${agents[0]},core=0 f=1.5,i=3i,b=true,s="x" ${minute + 1000}`,
      `${m},agent_id=${agents[0]},core=0 f=-2.25,i=-7i,b=false ${minute + 2000}`,
      `${m},agent_id=${agents[0]},core=0 f=0.5 ${minute + M + 1}`,
      `${m},agent_id=${agents[1]} f=3,i=1i ${minute + 10_000}`,
      `${m},agent_id=${agents[1]} f=4 ${minute + 2 * M + 10_000}`,
      `${m}_big,agent_id=${agents[0]} n=9007199254740993i ${minute + 1000}`,
    ]);
    for (const rp of ['by_thread', 'by_caller']) await influxql(`CREATE RETENTION POLICY "${rp}" ON "${DB}" DURATION 1d REPLICATION 1`);
    const influx = new InfluxClient({ url: TEST_INFRA.influxUrl, database: DB });
    const types = await influx.fieldTypes(DB, 'raw');
    const job = (rp: string, measurements = `/^${m}$/`): AggregateJob => ({
      statement: rawPointsStatement(DB, agents, minute - M, minute + 4 * M).replace('./.*/', `.${measurements}`),
      db: DB,
      rp,
      bucketMs: M,
      types,
      // small chunks and writes, so that a job takes several of each
      chunkRows: 2,
      writeLines: 2,
      timeoutMs: 30_000,
    });
    const warnings: unknown[] = [];
    const thread = new AggregatorThread({ url: TEST_INFRA.influxUrl, database: DB }, { warn: (o: unknown) => void warnings.push(o) } as never, script);
    try {
      expect(await thread.aggregate(job('by_thread'))).toEqual({ here: true });
      expect(await new InProcessAggregator(influx).aggregate(job('by_caller'))).toEqual({ here: true });
      const stored = (rp: string) => influxql(`SELECT * FROM "${DB}"."${rp}"."${m}" GROUP BY *`).then((r) => r.results[0]!.series);
      const byThread = await stored('by_thread');
      expect(byThread?.map((x) => x.values.length)).toEqual([2, 2]); // two series (a's core 0, b), two minutes each
      expect(byThread).toEqual(await stored('by_caller'));
      expect(await thread.aggregate(job('by_thread', `/^${m}_big$/`))).toEqual({ here: false, reason: 'field n: 9007199254740992 is not an integer JSON can carry exactly' });
      const failed = thread.aggregate({ ...job('by_thread'), statement: 'SELECT * FROM "no_such_db"."raw"."x"' });
      await expect(failed).rejects.toThrow(/database not found: no_such_db/);
      await expect(failed).rejects.toBeInstanceOf(InfluxError);
      expect(warnings).toEqual([]);
    } finally {
      await thread.close();
    }
    await expect(thread.aggregate(job('by_thread'))).rejects.toThrow(/closed/);
  });

  it('one replica runs a level at a time: while another holds the lock, a run is left to it', async () => {
    const agent = `ds-locked-${RUN}`;
    const minute = Math.floor(Date.now() / M) * M - 2 * M;
    await writeLines('raw', [`${DS},agent_id=${agent},core=all cpu=1 ${minute + 1000}`]);
    await redis.set(downsampleLockKey(DB, 'agg_1m'), 'another-replica', 'PX', 30_000);
    try {
      expect(await downsampler().run('agg_1m')).toBe('elsewhere');
      expect(await rowsOf(`SELECT * FROM "${DB}"."agg_1m"."${DS}" WHERE "agent_id" = '${agent}' GROUP BY *`)).toEqual([]);
    } finally {
      await redis.del(downsampleLockKey(DB, 'agg_1m'));
    }
    expect(await downsampler().run('agg_1m')).toBe('ok');
    expect(await rowsOf(`SELECT * FROM "${DB}"."agg_1m"."${DS}" WHERE "agent_id" = '${agent}' GROUP BY *`)).toEqual([expect.objectContaining({ time: minute, count_cpu: 1 })]);
    // the lock is freed after the run; a scheduled run of the service's own (due at every 5-minute
    // boundary, queued behind this one) may take it for a moment, and frees it too
    expect(await eventually(() => redis.exists(downsampleLockKey(DB, 'agg_1m')), (n) => n === 0)).toBe(0);
  });
});
