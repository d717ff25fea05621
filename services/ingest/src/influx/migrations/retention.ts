import { quoteIdent } from '../influxql.js';
import type { MigrationContext } from './migration.js';

/** Creates a retention policy, or changes its duration (and default flag) to the configured one. */
export async function ensureRetentionPolicy(ctx: MigrationContext, name: string, duration: string, isDefault: boolean): Promise<'created' | 'altered' | 'unchanged'> {
  const db = quoteIdent(ctx.database);
  const rp = quoteIdent(name);
  const res = await ctx.client.query(`SHOW RETENTION POLICIES ON ${db}`);
  const row = (res[0]?.series?.[0]?.values ?? []).find((v) => v[0] === name);
  const shard = shardDuration(duration);
  if (!row) {
    await ctx.client.query(`CREATE RETENTION POLICY ${rp} ON ${db} DURATION ${duration} REPLICATION 1 SHARD DURATION ${shard}${isDefault ? ' DEFAULT' : ''}`);
    return 'created';
  }
  const columns = res[0]!.series![0]!.columns;
  const current = String(row[columns.indexOf('duration')]);
  const currentDefault = row[columns.indexOf('default')] === true;
  if (durationEquals(current, duration) && (currentDefault || !isDefault)) return 'unchanged';
  await ctx.client.query(`ALTER RETENTION POLICY ${rp} ON ${db} DURATION ${duration} SHARD DURATION ${shard}${isDefault ? ' DEFAULT' : ''}`);
  return 'altered';
}

/** Shard groups as InfluxDB would choose them: 1h below 2d, 1d up to 6 months, 7d beyond. */
function shardDuration(duration: string): string {
  const hours = toHours(duration);
  if (hours < 48) return '1h';
  if (hours <= 24 * 183) return '1d';
  return '7d';
}

function toHours(d: string): number {
  const m = /^(\d+)(h|d|w)$/.exec(d);
  if (!m) throw new Error(`bad retention ${d}`);
  return Number(m[1]) * { h: 1, d: 24, w: 168 }[m[2] as 'h' | 'd' | 'w'];
}

/** InfluxDB shows durations as `2160h0m0s`. */
function durationEquals(shown: string, configured: string): boolean {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(shown);
  if (!m) return false;
  const hours = Number(m[1] ?? 0) + Number(m[2] ?? 0) / 60 + Number(m[3] ?? 0) / 3600;
  return hours === toHours(configured);
}
