import { Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { IngestConfig } from '../config.js';
import type { BackpressureService } from '../backpressure/backpressure.service.js';
import { fieldTypesOf, type InfluxClient, type InfluxSeries } from '../influx/influx.client.js';
import type { InfluxSchemaService } from '../influx/influx-schema.service.js';
import type { BackfillMarks } from './backfill-marks.service.js';
import { ingestMetrics } from '../stats/ingest-metrics.js';
import { DownsamplerService } from './downsampler.service.js';
import { InProcessAggregator } from './aggregate-group.js';

// The decisions of a run around its queries (unit: InfluxDB and Redis are stand-ins that record calls;
// the queries themselves run against the real InfluxDB in test/queries.int-spec.ts).
const M = 60_000;
const T = Date.UTC(2026, 10, 27, 10, 3);
/** what InfluxDB holds: agents a and b report a float, c an integer beyond 2^53 (left to InfluxDB's statement) */
const RAW: Record<string, InfluxSeries> = {
  a: { name: 'm', tags: { agent_id: 'a' }, columns: ['time', 'v'], values: [[T, 1], [T + 1000, 2]] },
  b: { name: 'm', tags: { agent_id: 'b' }, columns: ['time', 'v'], values: [[T, 5]] },
  c: { name: 'n', tags: { agent_id: 'c' }, columns: ['time', 'big'], values: [[T, 2 ** 60]] },
};
function setup(backlog: number, failQuery = false) {
  const queries: string[] = [];
  const writes: [string, string][] = [];
  const influx = {
    query: async (q: string) => {
      queries.push(q);
      if (failQuery && q.startsWith('SELECT')) throw new Error('InfluxDB is down');
      if (q.startsWith('SHOW TAG VALUES')) return [{ series: [{ name: 'm', columns: ['key', 'value'], values: [['agent_id', 'b'], ['agent_id', 'a'], ['agent_id', 'c']] }] }];
      return [{}];
    },
    fieldTypes: async () => fieldTypesOf([{ name: 'm', columns: ['fieldKey', 'fieldType'], values: [['v', 'float']] }, { name: 'n', columns: ['fieldKey', 'fieldType'], values: [['big', 'integer']] }]),
    queryChunked: async (q: string, onSeries: (s: InfluxSeries) => Promise<void>) => {
      queries.push(q);
      if (failQuery) throw new Error('InfluxDB is down');
      for (const [agent, series] of Object.entries(RAW)) if (q.includes(`'${agent}'`)) await onSeries(series);
    },
    write: async (body: string, rp: string) => void writes.push([rp, body]),
  } as unknown as InfluxClient;
  const hash = new Map<string, string>();
  const redis = {
    set: async () => 'OK',
    eval: async () => 1,
    hget: async (_k: string, f: string) => hash.get(f) ?? null,
    hset: async (_k: string, f: string, v: string) => hash.set(f, v),
    hgetall: async () => Object.fromEntries(hash),
  } as unknown as Redis;
  const config = { INFLUX_DATABASE: 'db', RAW_RETENTION: '90d', DOWNSAMPLE_1M_EVERY_MS: 5 * M, DOWNSAMPLE_1H_EVERY_MS: 30 * M, DOWNSAMPLE_AGENTS_PER_QUERY: 2, DOWNSAMPLE_PAUSE_RATIO: 0, DOWNSAMPLE_CATCH_UP_MS: 24 * 60 * M } as IngestConfig;
  const logger = { info() {}, warn() {}, debug() {} } as unknown as Logger;
  const backpressure = { lastReading: { backlog, streamFill: 0, lagMs: 0 } } as BackpressureService;
  const schema = { isReady: true } as InfluxSchemaService;
  const backfill = { marked: async () => [], clear: async () => undefined } as unknown as BackfillMarks;
  return { service: new DownsamplerService(influx, schema, backpressure, redis, backfill, config, logger, ingestMetrics(new Registry()), new InProcessAggregator(influx)), queries, writes, hash };
}

describe('DownsamplerService.run', () => {
  it('reads the raw points of one group of agents at a time, in order, writes their aggregates, and records when the run began', async () => {
    const { service, queries, writes, hash } = setup(0);
    const now = Date.UTC(2026, 10, 27, 10, 5);
    expect(await service.run('agg_1m', now)).toBe('ok');
    const selects = queries.filter((q) => q.startsWith('SELECT'));
    expect(selects[0]).toContain(`SELECT * FROM "db"."raw"./.*/ WHERE ("agent_id" = 'a' OR "agent_id" = 'b') AND`);
    expect(selects[1]).toContain(`SELECT * FROM "db"."raw"./.*/ WHERE ("agent_id" = 'c') AND`);
    expect(writes).toEqual([['agg_1m', `m,agent_id=a count_v=2i,mean_v=1.5,min_v=1,max_v=2,sum_v=3 ${T}\nm,agent_id=b count_v=1i,mean_v=5,min_v=5,max_v=5,sum_v=5 ${T}`]]);
    expect(hash.get('agg_1m')).toBe(String(now));
  });

  it('a group the aggregator cannot take exactly (an integer beyond 2^53) is left to the statement InfluxDB runs', async () => {
    const { service, queries } = setup(0);
    expect(await service.run('agg_1m', Date.UTC(2026, 10, 27, 10, 5))).toBe('ok');
    const selects = queries.filter((q) => q.startsWith('SELECT'));
    expect(selects).toHaveLength(3);
    expect(selects[2]).toMatch(/^SELECT mean\(\*\), min\(\*\), max\(\*\), count\(\*\), sum\(\*\) INTO "db"."agg_1m".:MEASUREMENT .* WHERE \("agent_id" = 'c'\)/);
  });

  it('waits while the writer is behind, but not longer than 15 minutes', async () => {
    const { service, queries } = setup(5_000);
    const t = Date.UTC(2026, 10, 27, 10, 5);
    expect(await service.run('agg_1m', t)).toBe('deferred');
    expect(await service.run('agg_1m', t + 14 * M)).toBe('deferred');
    expect(queries).toEqual([]);
    expect(await service.run('agg_1m', t + 15 * M)).toBe('ok');
  });

  it('a failed query fails the run and records nothing, so the next run reaches back as far', async () => {
    const { service, hash } = setup(0, true);
    expect(await service.run('agg_1h', Date.UTC(2026, 10, 27, 10, 30))).toBe('failed');
    expect(hash.has('agg_1h')).toBe(false);
  });
});
