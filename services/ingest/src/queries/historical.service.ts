import { Inject, Injectable } from '@nestjs/common';
import { AppError, type HistoricalResult, type RpcParsedRequest } from '@agentmon/contracts';
import { INGEST_CONFIG, retentionMs, type IngestConfig } from '../config.js';
import { InfluxClient, queryFailure } from '../influx/influx.client.js';
import { InfluxSchemaService } from '../influx/influx-schema.service.js';
import { qualified, quoteIdent, quoteString } from '../influx/influxql.js';

export type HistoricalQuery = RpcParsedRequest<'rpc.ingest.metrics.historical.v1'>;
export type Source = 'raw' | 'agg_1m' | 'agg_1h';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
/** Resolutions offered when the caller names none, smallest first. */
export const STEPS = [S, 5 * S, 10 * S, 15 * S, 30 * S, M, 2 * M, 5 * M, 10 * M, 15 * M, 30 * M, H, 2 * H, 3 * H, 6 * H, 12 * H, D, 2 * D, 7 * D, 14 * D, 30 * D];
/** Points a series should have at most when the caller names no interval. */
export const TARGET_POINTS = 1000;
/** Points a series may have at most with the caller's interval. */
export const MAX_POINTS = 10_000;

/**
 * Where a query is answered from and at which resolution:
 * - ranges that start before the raw retention can only be served by the aggregates, at 1m or more;
 * - intervals of whole hours over ranges of 7 days or more read `agg_1h`;
 * - intervals of whole minutes (5m or more) over ranges of 1 day or more read `agg_1m`;
 * - everything else reads `raw`, which is exact and current to the second.
 * The aggregates trail the raw data by up to one downsampling run (DOWNSAMPLE_1M_EVERY_MS, DOWNSAMPLE_1H_EVERY_MS).
 */
export function plan(q: { from: number; to: number; interval?: string }, now: number, rawRetentionMs: number): { source: Source; intervalMs: number } {
  const range = q.to - q.from;
  let intervalMs = q.interval ? durationMs(q.interval) : (STEPS.find((s) => range / s <= TARGET_POINTS) ?? STEPS[STEPS.length - 1]!);
  const pastRaw = q.from < now - rawRetentionMs;
  if (pastRaw && intervalMs < M) intervalMs = M;
  if (pastRaw && intervalMs % M !== 0) intervalMs = Math.ceil(intervalMs / M) * M;
  let source: Source = 'raw';
  if (intervalMs % H === 0 && (range >= 7 * D || (pastRaw && intervalMs >= H))) source = 'agg_1h';
  else if (pastRaw || (intervalMs % M === 0 && intervalMs >= 5 * M && range >= D)) source = 'agg_1m';
  return { source, intervalMs };
}

/** Metric history of one agent from InfluxDB, as `rpc.ingest.metrics.historical.v1` answers it. */
@Injectable()
export class HistoricalService {
  private readonly rawRetentionMs: number;

  constructor(
    @Inject(InfluxClient) private readonly influx: InfluxClient,
    @Inject(InfluxSchemaService) private readonly schema: InfluxSchemaService,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
  ) {
    this.rawRetentionMs = retentionMs(config.RAW_RETENTION);
  }

  async query(q: HistoricalQuery, now = Date.now()): Promise<HistoricalResult> {
    if (q.to <= q.from) throw new AppError('bad_request', 'to must be after from', [{ path: 'to', reason: 'must be after from' }]);
    const { source, intervalMs } = plan(q, now, this.rawRetentionMs);
    const buckets = Math.ceil((q.to - q.from) / intervalMs);
    if (buckets > MAX_POINTS) {
      throw new AppError('bad_request', `interval ${q.interval} gives ${buckets} points per series; at most ${MAX_POINTS}`, [
        { path: 'interval', reason: `is too small for this range (at most ${MAX_POINTS} points per series)` },
      ]);
    }
    if (!this.schema.isReady) throw new AppError('unavailable', 'InfluxDB is not ready yet', undefined, 5);
    const interval = formatDuration(intervalMs);
    const db = this.config.INFLUX_DATABASE;
    try {
      const all = await this.allFields(db, source, q.measurement);
      // fields that can be averaged: floats and integers (in the aggregates, those with a mean_)
      const numeric = new Set([...all].filter(([, type]) => type === 'float' || type === 'integer').map(([name]) => name));
      let fields: string[];
      if (q.fields?.length) {
        fields = [...new Set(q.fields)];
        const bad = fields.filter((f) => all.has(f) && !numeric.has(f));
        if (bad.length) {
          throw new AppError(
            'bad_request',
            `field ${bad[0]} of ${q.measurement} is not numeric`,
            bad.map((f) => ({ path: 'fields', reason: `${f} is ${all.get(f)}, not a number` })),
          );
        }
      } else fields = [...numeric].sort();
      const known = fields.filter((f) => numeric.has(f));
      const series = new Map<string, [string, number | null][]>(fields.map((f) => [f, []]));
      if (known.length > 0) {
        const column = (f: string) => (source === 'raw' ? f : `mean_${f}`);
        const select = known.map((f) => `mean(${quoteIdent(column(f))}) AS ${quoteIdent(f)}`).join(', ');
        const statement =
          `SELECT ${select} FROM ${qualified(db, source, q.measurement)} ` +
          `WHERE ${quoteIdent('agent_id')} = ${quoteString(q.agent_id)} AND time >= ${Math.trunc(q.from)}ms AND time < ${Math.trunc(q.to)}ms ` +
          `GROUP BY time(${interval}) fill(null)`;
        const [result] = await this.influx.query(statement, { db, epoch: 'ms' });
        for (const s of result?.series ?? []) {
          const idx = known.map((f) => s.columns.indexOf(f));
          for (const row of s.values ?? []) {
            const at = new Date(Number(row[0])).toISOString();
            known.forEach((f, i) => {
              const v = idx[i]! >= 0 ? row[idx[i]!] : null;
              series.get(f)!.push([at, typeof v === 'number' ? v : null]);
            });
          }
        }
      }
      return { agent_id: q.agent_id, measurement: q.measurement, interval, series: fields.map((f) => ({ field: f, points: series.get(f)! })) };
    } catch (err) {
      throw queryFailure(err);
    }
  }

  /** The measurement's fields, with their types, in one retention policy. */
  private async allFields(db: string, source: Source, measurement: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const [name, type] of await this.influx.fieldKeys(db, source, measurement)) {
      if (source === 'raw') out.set(name, type);
      else if (name.startsWith('mean_')) out.set(name.slice(5), type);
    }
    return out;
  }
}

export function durationMs(d: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(d);
  if (!m || Number(m[1]) <= 0) throw new AppError('bad_request', `interval ${d} is not a positive duration`, [{ path: 'interval', reason: 'must be a positive duration like 30s, 5m, 1h' }]);
  return Number(m[1]) * { s: S, m: M, h: H, d: D }[m[2] as 's' | 'm' | 'h' | 'd'];
}

export function formatDuration(ms: number): string {
  if (ms % D === 0) return `${ms / D}d`;
  if (ms % H === 0) return `${ms / H}h`;
  if (ms % M === 0) return `${ms / M}m`;
  return `${Math.max(1, Math.round(ms / S))}s`;
}
