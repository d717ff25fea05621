import { quoteIdent } from '../influxql.js';
import type { InfluxMigration, MigrationContext } from './migration.js';

/**
 * Continuous queries that downsample every measurement of `raw`, every field, into `agg_1m` and
 * `agg_1h`: `mean_<field>`, `min_<field>`, `max_<field>` (numbers; min/max also of booleans) and
 * `count_<field>` (every type), grouped by every tag, so agent_id and the point's tags stay.
 * RESAMPLE recomputes recent windows, so points arriving late (up to the FOR window) are counted,
 * and the current hour is kept up to date every 5 minutes instead of once it ends.
 */
export function continuousQueries(database: string): { name: string; statement: string }[] {
  const db = quoteIdent(database);
  const cq = (name: string, every: string, forWindow: string, group: string, target: string) => ({
    name,
    statement:
      `CREATE CONTINUOUS QUERY ${quoteIdent(name)} ON ${db} RESAMPLE EVERY ${every} FOR ${forWindow} BEGIN ` +
      `SELECT mean(*), min(*), max(*), count(*) INTO ${db}.${quoteIdent(target)}.:MEASUREMENT ` +
      `FROM ${db}.${quoteIdent('raw')}./.*/ GROUP BY time(${group}), * END`,
  });
  return [cq('cq_agg_1m', '1m', '15m', '1m', 'agg_1m'), cq('cq_agg_1h', '5m', '2h', '1h', 'agg_1h')];
}

export const ContinuousQueries0002: InfluxMigration = {
  id: '0002-continuous-queries',
  async up(ctx: MigrationContext) {
    const existing = await ctx.client.query('SHOW CONTINUOUS QUERIES');
    const names = new Set<string>();
    for (const s of existing[0]?.series ?? []) {
      if (s.name !== ctx.database) continue;
      for (const row of s.values ?? []) names.add(String(row[0]));
    }
    for (const { name, statement } of continuousQueries(ctx.database)) {
      if (names.has(name)) continue;
      await ctx.client.query(statement);
    }
  },
};
