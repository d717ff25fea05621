import { Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { IngestConfig } from '../config.js';
import type { BackpressureService } from '../backpressure/backpressure.service.js';
import type { InfluxClient } from '../influx/influx.client.js';
import type { InfluxSchemaService } from '../influx/influx-schema.service.js';
import type { BackfillMarks } from './backfill-marks.service.js';
import { ingestMetrics } from '../stats/ingest-metrics.js';
import { DownsamplerService } from './downsampler.service.js';

// The decisions of a run around its queries (unit: InfluxDB and Redis are stand-ins that record calls;
// the queries themselves run against the real InfluxDB in test/queries.int-spec.ts).
const M = 60_000;
function setup(backlog: number, failQuery = false) {
  const queries: string[] = [];
  const influx = {
    query: async (q: string) => {
      queries.push(q);
      if (failQuery && q.startsWith('SELECT')) throw new Error('InfluxDB is down');
      if (q.startsWith('SHOW TAG VALUES')) return [{ series: [{ name: 'm', columns: ['key', 'value'], values: [['agent_id', 'b'], ['agent_id', 'a'], ['agent_id', 'c']] }] }];
      return [{}];
    },
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
  const logger = { info() {}, warn() {} } as unknown as Logger;
  const backpressure = { lastReading: { backlog, streamFill: 0, lagMs: 0 } } as BackpressureService;
  const schema = { isReady: true } as InfluxSchemaService;
  const backfill = { marked: async () => [], clear: async () => undefined } as unknown as BackfillMarks;
  return { service: new DownsamplerService(influx, schema, backpressure, redis, backfill, config, logger, ingestMetrics(new Registry())), queries, hash };
}

describe('DownsamplerService.run', () => {
  it('asks one query per group of agents, in order, and records when the run began', async () => {
    const { service, queries, hash } = setup(0);
    const now = Date.UTC(2026, 10, 27, 10, 5);
    expect(await service.run('agg_1m', now)).toBe('ok');
    const selects = queries.filter((q) => q.startsWith('SELECT'));
    expect(selects).toHaveLength(2);
    expect(selects[0]).toContain(`("agent_id" = 'a' OR "agent_id" = 'b')`);
    expect(selects[1]).toContain(`("agent_id" = 'c')`);
    expect(hash.get('agg_1m')).toBe(String(now));
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
