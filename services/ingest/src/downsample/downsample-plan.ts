import { quoteIdent, quoteString } from '../influx/influxql.js';

const M = 60_000;
const H = 60 * M;

/** One resolution of the aggregates: its retention policy, bucket and schedule. */
export interface DownsampleLevel {
  rp: 'agg_1m' | 'agg_1h';
  bucketMs: number;
  /** a run starts at every multiple of this (since the epoch) */
  everyMs: number;
  /** each run also computes again this much before where the previous run began (points that came late) */
  lateMs: number;
}

export function downsampleLevels(config: { DOWNSAMPLE_1M_EVERY_MS: number; DOWNSAMPLE_1H_EVERY_MS: number }): DownsampleLevel[] {
  return [
    { rp: 'agg_1m', bucketMs: M, everyMs: config.DOWNSAMPLE_1M_EVERY_MS, lateMs: Math.max(config.DOWNSAMPLE_1M_EVERY_MS, M) },
    { rp: 'agg_1h', bucketMs: H, everyMs: config.DOWNSAMPLE_1H_EVERY_MS, lateMs: Math.max(config.DOWNSAMPLE_1H_EVERY_MS, H) },
  ];
}

/** The next scheduled start of a level after `now`. */
export function nextRunAt(level: DownsampleLevel, now: number): number {
  return Math.floor(now / level.everyMs) * level.everyMs + level.everyMs;
}

/**
 * The buckets one run computes: from `lateMs` before the previous run began (or before one period
 * ago, whichever is earlier; at most `catchUpMs` back) to the end of the current bucket, which is
 * partial and is computed again by the next run. `doneUntil`: when the last successful run began
 * (everything the writer had stored by then was in it). After an outage the first run therefore
 * covers the whole gap, up to `catchUpMs`. Without any record (a new installation, or the upgrade
 * from continuous queries, which stopped when migration 0005 ran) a run reaches an hour further back.
 */
export function runRange(level: DownsampleLevel, now: number, doneUntil: number | undefined, catchUpMs: number): { from: number; to: number } {
  const previous = Math.min(doneUntil ?? now - Math.max(level.everyMs, H), now - level.everyMs);
  const from = Math.max(previous - level.lateMs, now - catchUpMs);
  return { from: Math.floor(from / level.bucketMs) * level.bucketMs, to: Math.ceil((now + 1) / level.bucketMs) * level.bucketMs };
}

/** The agents in groups of `size`, in order. */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * One query of a run: mean, min, max, count and sum of every field of every measurement of these
 * agents' raw points, per bucket and per series (all tags kept), into the level's retention policy
 * (fields `mean_<f>`, `min_<f>`, …; strings and booleans only get `count_<f>`). Writing a bucket again
 * replaces it with the same or more complete values, so runs may overlap and repeat.
 */
export function downsampleStatement(database: string, level: DownsampleLevel, agents: readonly string[], from: number, to: number): string {
  const db = quoteIdent(database);
  return (
    `SELECT mean(*), min(*), max(*), count(*), sum(*) INTO ${db}.${quoteIdent(level.rp)}.:MEASUREMENT ` +
    `FROM ${db}.${quoteIdent('raw')}./.*/ WHERE ${pointsOf(agents, from, to)} GROUP BY time(${level.bucketMs / M}m), *`
  );
}

/**
 * The same points as `downsampleStatement` reads, as they are (every series apart, in time order),
 * for BucketAggregator: InfluxDB reads each point once instead of once per function.
 */
export function rawPointsStatement(database: string, agents: readonly string[], from: number, to: number): string {
  return `SELECT * FROM ${quoteIdent(database)}.${quoteIdent('raw')}./.*/ WHERE ${pointsOf(agents, from, to)} GROUP BY *`;
}

function pointsOf(agents: readonly string[], from: number, to: number): string {
  const who = agents.map((a) => `${quoteIdent('agent_id')} = ${quoteString(a)}`).join(' OR ');
  return `(${who}) AND time >= ${Math.trunc(from)}ms AND time < ${Math.trunc(to)}ms`;
}

/** The agents with raw points in shards that overlap the range (SHOW TAG VALUES reads the index only). */
export function agentsStatement(database: string, from: number, to: number): string {
  return `SHOW TAG VALUES ON ${quoteIdent(database)} FROM ${quoteIdent('raw')}./.*/ WITH KEY = ${quoteIdent('agent_id')} WHERE time >= ${Math.trunc(from)}ms AND time < ${Math.trunc(to)}ms`;
}
