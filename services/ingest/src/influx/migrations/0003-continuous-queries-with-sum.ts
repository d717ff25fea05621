import { quoteIdent } from '../influxql.js';
import type { InfluxMigration, MigrationContext } from './migration.js';

/**
 * The continuous queries of 0002 plus `sum(*)`, so the aggregates answer `sum` exactly and `mean`
 * weighted by the number of points (`sum(sum_f) / sum(count_f)`) over any range. InfluxDB cannot
 * alter a continuous query: each is dropped and created again under a new name (`…_v2`), so a step
 * interrupted half-way leaves at worst both versions running for a moment, never none.
 * Aggregates written before this step have no `sum_<field>`; only the last 15 minutes / 2 hours are
 * recomputed with it.
 */
export function continuousQueriesV2(database: string): ContinuousQuerySpec[] {
  return [
    aggregateQuery(database, 'cq_agg_1m_v2', 'cq_agg_1m', '1m', '15m', '1m', 'agg_1m'),
    aggregateQuery(database, 'cq_agg_1h_v2', 'cq_agg_1h', '5m', '2h', '1h', 'agg_1h'),
  ];
}

export interface ContinuousQuerySpec {
  name: string;
  /** the query this one replaces (dropped once this one exists) */
  replaces: string;
  statement: string;
}

/** mean, min, max, count and sum of every field of every measurement of `raw`, by every tag, into `target`. */
export function aggregateQuery(database: string, name: string, replaces: string, every: string, forWindow: string, group: string, target: string): ContinuousQuerySpec {
  const db = quoteIdent(database);
  return {
    name,
    replaces,
    statement:
      `CREATE CONTINUOUS QUERY ${quoteIdent(name)} ON ${db} RESAMPLE EVERY ${every} FOR ${forWindow} BEGIN ` +
      `SELECT mean(*), min(*), max(*), count(*), sum(*) INTO ${db}.${quoteIdent(target)}.:MEASUREMENT ` +
      `FROM ${db}.${quoteIdent('raw')}./.*/ GROUP BY time(${group}), * END`,
  };
}

/** Creates each query that does not exist yet, then drops the one it replaces: never a moment with neither. */
export async function replaceContinuousQueries(ctx: MigrationContext, specs: ContinuousQuerySpec[]): Promise<void> {
  const names = await continuousQueryNames(ctx);
  for (const { name, replaces, statement } of specs) {
    if (!names.has(name)) await ctx.client.query(statement);
    if (names.has(replaces)) await ctx.client.query(`DROP CONTINUOUS QUERY ${quoteIdent(replaces)} ON ${quoteIdent(ctx.database)}`);
  }
}

export async function continuousQueryNames(ctx: MigrationContext): Promise<Set<string>> {
  const existing = await ctx.client.query('SHOW CONTINUOUS QUERIES');
  const names = new Set<string>();
  for (const s of existing[0]?.series ?? []) {
    if (s.name !== ctx.database) continue;
    for (const row of s.values ?? []) names.add(String(row[0]));
  }
  return names;
}

export const ContinuousQueriesWithSum0003: InfluxMigration = {
  id: '0003-continuous-queries-with-sum',
  async up(ctx: MigrationContext) {
    await replaceContinuousQueries(ctx, continuousQueriesV2(ctx.database));
  },
};
