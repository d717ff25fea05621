import { quoteIdent } from '../influxql.js';
import { continuousQueryNames } from './0003-continuous-queries-with-sum.js';
import type { InfluxMigration, MigrationContext } from './migration.js';

/** Every continuous query the earlier steps created. */
const OURS = ['cq_agg_1m', 'cq_agg_1h', 'cq_agg_1m_v2', 'cq_agg_1h_v2', 'cq_agg_1m_v3', 'cq_agg_1h_v3'];

/**
 * The aggregates are computed by the ingest service itself from now on (DownsamplerService: many
 * small queries, paced, on a schedule), because a continuous query over `GROUP BY *` cost InfluxDB
 * 13 s of CPU in 10 s per run with 10,000 agents, 1.3 of a 2-core machine's cores
 * (`node bench/downsampling.mjs`, docs/benchmarks.md). The retention policies and the aggregates already computed stay as they are;
 * the downsampler's first run reaches an hour back, over the time since these queries stopped.
 */
export const DownsamplingWithoutContinuousQueries0005: InfluxMigration = {
  id: '0005-downsampling-without-continuous-queries',
  async up(ctx: MigrationContext) {
    const names = await continuousQueryNames(ctx);
    for (const name of OURS) {
      if (names.has(name)) await ctx.client.query(`DROP CONTINUOUS QUERY ${quoteIdent(name)} ON ${quoteIdent(ctx.database)}`);
    }
  },
};
