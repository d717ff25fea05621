import { Inject, Injectable } from '@nestjs/common';
import { AppError, type AggregateFn, type AggregateResult, type AggregateTimerange, type RpcParsedRequest } from '@agentmon/contracts';
import { INGEST_CONFIG, retentionMs, type IngestConfig } from '../config.js';
import { InfluxClient, queryFailure, type InfluxSeries } from '../influx/influx.client.js';
import { InfluxSchemaService } from '../influx/influx-schema.service.js';
import { qualified, quoteIdent } from '../influx/influxql.js';
import { STEPS, durationMs, formatDuration, type Source } from './historical.service.js';

export type AggregateQuery = RpcParsedRequest<'rpc.ingest.metrics.aggregate.v1'>;

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
export const TIMERANGE_MS: Record<AggregateTimerange, number> = {
  '15m': 15 * M,
  '1h': H,
  '6h': 6 * H,
  '24h': D,
  '7d': 7 * D,
  '30d': 30 * D,
  '90d': 90 * D,
  '1y': 365 * D,
};
/** Points a series should have at most when the caller names no interval (about a chart's width). */
export const AGGREGATE_TARGET_POINTS = 300;
/** Points a series may have at most with the caller's interval. */
export const AGGREGATE_MAX_POINTS = 10_000;
/** Groups one answer carries at most. */
export const MAX_GROUPS = 1000;
/** Values (groups × points) one answer carries at most; fewer groups are returned for fine intervals. */
export const MAX_VALUES = 200_000;

/**
 * Where an aggregate over the last `timerange` is read and at which resolution. The range decides
 * the source, so that a year costs about what an hour costs: up to 6h the raw points (exact, current
 * to the second); up to 7d the 1-minute aggregates; beyond, the 1-hour aggregates. An interval finer
 * than the source's resolution reads the next finer source; ranges past the raw retention never read raw.
 */
export function aggregatePlan(q: { timerange: AggregateTimerange; interval?: string | undefined }, rawRetentionMs: number): { source: Source; intervalMs: number } {
  const range = TIMERANGE_MS[q.timerange];
  let intervalMs = q.interval ? durationMs(q.interval) : (STEPS.find((s) => range / s <= AGGREGATE_TARGET_POINTS) ?? STEPS[STEPS.length - 1]!);
  let source: Source = range <= 6 * H ? 'raw' : range <= 7 * D ? 'agg_1m' : 'agg_1h';
  if (source === 'agg_1h' && intervalMs % H !== 0) source = 'agg_1m';
  if (source === 'agg_1m' && intervalMs % M !== 0) source = 'raw';
  if (source === 'raw' && range > rawRetentionMs) {
    intervalMs = Math.max(M, Math.ceil(intervalMs / M) * M);
    source = 'agg_1m';
  }
  return { source, intervalMs };
}

/**
 * The InfluxQL expression of a function of one field. Raw points are exact. From the aggregates:
 * mean is weighted by the points of each minute/hour (`sum(sum_f) / sum(count_f)`), min/max/sum/count
 * are exact, and p95 is the 95th percentile of the per-minute (per-hour) means, an approximation.
 */
export function fnExpression(fn: AggregateFn, field: string, source: Source): string {
  const f = (prefix: string) => quoteIdent(source === 'raw' ? field : `${prefix}_${field}`);
  if (source === 'raw') {
    if (fn === 'p95') return `percentile(${f('')}, 95)`;
    if (fn === 'mean' || fn === 'min' || fn === 'max' || fn === 'sum' || fn === 'count') return `${fn}(${f('')})`;
  }
  switch (fn) {
    case 'mean':
      return `sum(${f('sum')}) / sum(${f('count')})`;
    case 'min':
      return `min(${f('min')})`;
    case 'max':
      return `max(${f('max')})`;
    case 'sum':
      return `sum(${f('sum')})`;
    case 'count':
      return `sum(${f('count')})`;
    case 'p95':
      return `percentile(${f('mean')}, 95)`;
  }
}

/** Aggregates over the fleet, per agent or per tag value, as `rpc.ingest.metrics.aggregate.v1` answers them. */
@Injectable()
export class AggregateService {
  private readonly rawRetentionMs: number;

  constructor(
    @Inject(InfluxClient) private readonly influx: InfluxClient,
    @Inject(InfluxSchemaService) private readonly schema: InfluxSchemaService,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
  ) {
    this.rawRetentionMs = retentionMs(config.RAW_RETENTION);
  }

  async query(q: AggregateQuery, now = Date.now()): Promise<AggregateResult> {
    const { source, intervalMs } = aggregatePlan(q, this.rawRetentionMs);
    const range = TIMERANGE_MS[q.timerange];
    const buckets = Math.ceil(range / intervalMs);
    if (buckets > AGGREGATE_MAX_POINTS) {
      throw new AppError('bad_request', `interval ${q.interval} gives ${buckets} points per series over ${q.timerange}; at most ${AGGREGATE_MAX_POINTS}`, [
        { path: 'interval', reason: `is too small for ${q.timerange} (at most ${AGGREGATE_MAX_POINTS} points per series)` },
      ]);
    }
    if (!this.schema.isReady) throw new AppError('unavailable', 'InfluxDB is not ready yet', undefined, 5);
    const to = Math.trunc(now);
    const from = to - range;
    const interval = formatDuration(intervalMs);
    const groupTag = q.group_by ? (q.group_by.kind === 'agent' ? 'agent_id' : q.group_by.key) : null;
    const result: AggregateResult = {
      timerange: q.timerange,
      measurement: q.measurement,
      fn: q.fn,
      group_by: q.group_by ? (q.group_by.kind === 'agent' ? 'agent' : `tag:${q.group_by.key}`) : null,
      interval,
      source,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      series: [],
      truncated: false,
    };
    const db = this.config.INFLUX_DATABASE;
    try {
      const fields = [...new Set(q.fields)];
      const types = await this.fieldTypes(db, source, q.measurement);
      const bad = fields.filter((f) => types.has(f) && q.fn !== 'count' && types.get(f) !== 'number');
      if (bad.length) {
        throw new AppError(
          'bad_request',
          `${q.fn} needs a numeric field; ${bad[0]} of ${q.measurement} is not`,
          bad.map((f) => ({ path: 'field', reason: `${f} holds ${types.get(f)} values; only count works on it` })),
        );
      }
      const known = fields.filter((f) => types.has(f));
      const groups = new Map<string, { group: Record<string, string>; values: Map<string, number | null>; points: Map<string, [string, number | null][]> }>();
      if (known.length > 0) {
        const select = known.map((f) => `${fnExpression(q.fn, f, source)} AS ${quoteIdent(f)}`).join(', ');
        const where = `WHERE time >= ${from}ms AND time < ${to}ms`;
        const by = groupTag ? `, ${quoteIdent(groupTag)}` : '';
        const maxGroups = Math.max(1, Math.min(MAX_GROUPS, Math.floor(MAX_VALUES / buckets)));
        const slimit = groupTag ? ` SLIMIT ${maxGroups + 1}` : '';
        const fill = q.fn === 'count' ? 'fill(0)' : 'fill(null)';
        const target = qualified(db, source, q.measurement);
        const statements =
          `SELECT ${select} FROM ${target} ${where} GROUP BY time(${interval})${by} ${fill}${slimit}; ` +
          `SELECT ${select} FROM ${target} ${where}${groupTag ? ` GROUP BY ${quoteIdent(groupTag)}` : ''}${slimit}`;
        const [perInterval, overall] = await this.influx.query(statements, { db, epoch: 'ms' });
        const groupOf = (s: InfluxSeries) => {
          const group: Record<string, string> = groupTag ? { [groupTag]: s.tags?.[groupTag] ?? '' } : {};
          const key = JSON.stringify(group);
          let g = groups.get(key);
          if (!g) {
            if (groups.size >= maxGroups) {
              result.truncated = true;
              return undefined;
            }
            g = { group, values: new Map(), points: new Map(known.map((f) => [f, []])) };
            groups.set(key, g);
          }
          return g;
        };
        for (const s of perInterval?.series ?? []) {
          const g = groupOf(s);
          if (!g) continue;
          const idx = known.map((f) => s.columns.indexOf(f));
          for (const row of s.values ?? []) {
            const at = new Date(Number(row[0])).toISOString();
            known.forEach((f, i) => g.points.get(f)!.push([at, numberOrNull(row[idx[i]!])]));
          }
        }
        for (const s of overall?.series ?? []) {
          const g = groupOf(s);
          if (!g) continue;
          const row = s.values?.[0];
          known.forEach((f) => g.values.set(f, row ? numberOrNull(row[s.columns.indexOf(f)]) : null));
        }
      }
      if (!groupTag && groups.size === 0) groups.set('{}', { group: {}, values: new Map(), points: new Map() });
      const ordered = [...groups.values()].sort((a, b) => compareGroups(a.group, b.group, groupTag));
      for (const field of fields) {
        for (const g of ordered) {
          if (groupTag && !known.includes(field)) continue;
          result.series.push({ field, group: g.group, value: g.values.get(field) ?? (q.fn === 'count' && known.includes(field) ? 0 : null), points: g.points.get(field) ?? [] });
        }
      }
      return result;
    } catch (err) {
      throw queryFailure(err);
    }
  }

  /** Each field of the measurement in the source: `number`, or the InfluxDB type of the others. */
  private async fieldTypes(db: string, source: Source, measurement: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const [name, type] of await this.influx.fieldKeys(db, source, measurement)) {
      if (source === 'raw') out.set(name, type === 'float' || type === 'integer' ? 'number' : type);
      else if (name.startsWith('mean_')) out.set(name.slice(5), 'number');
      else if (name.startsWith('count_') && !out.has(name.slice(6))) out.set(name.slice(6), 'non-numeric');
    }
    return out;
  }
}

function numberOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function compareGroups(a: Record<string, string>, b: Record<string, string>, tag: string | null): number {
  if (!tag) return 0;
  const x = a[tag] ?? '';
  const y = b[tag] ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}
