import { aggregateQuery, replaceContinuousQueries, type ContinuousQuerySpec } from './0003-continuous-queries-with-sum.js';
import type { InfluxMigration, MigrationContext } from './migration.js';

/**
 * The queries of 0003 cost InfluxDB more than anything else under a steady load, in bursts of up to a
 * whole core and hundreds of MiB at each run (docs/benchmarks.md): `GROUP BY *` pays per series (10,000
 * agents are tens of thousands of series), and they re-aggregated far more raw data than needed — the
 * 1-minute query every minute over the last 15 minutes, the 1-hour one every 5 minutes over 2 hours.
 * Now (InfluxDB aligns each run's range to whole buckets and ends it at now + bucket − EVERY):
 * - 1 minute: every 2 minutes over the last 6 minutes; a minute's aggregate appears 1–3 minutes after
 *   it ends, and points arriving up to ~4 minutes late are counted;
 * - 1 hour: every 30 minutes over the last 90 minutes: the current hour at :30 and at its end, the
 *   hour before again at :30 (points up to 30 minutes late are counted).
 * Half the runs of the 1-minute query and a sixth of the 1-hour one's; the history and aggregate
 * queries read `raw` for the ranges where a few minutes of lag would show (history up to a day,
 * aggregates up to 6 hours).
 */
export function continuousQueriesV3(database: string): ContinuousQuerySpec[] {
  return [
    aggregateQuery(database, 'cq_agg_1m_v3', 'cq_agg_1m_v2', '2m', '6m', '1m', 'agg_1m'),
    aggregateQuery(database, 'cq_agg_1h_v3', 'cq_agg_1h_v2', '30m', '90m', '1h', 'agg_1h'),
  ];
}

export const CheaperContinuousQueries0004: InfluxMigration = {
  id: '0004-cheaper-continuous-queries',
  async up(ctx: MigrationContext) {
    await replaceContinuousQueries(ctx, continuousQueriesV3(ctx.database));
  },
};
