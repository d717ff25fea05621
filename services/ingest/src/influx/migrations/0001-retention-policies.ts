import type { InfluxMigration } from './migration.js';
import { ensureRetentionPolicy } from './retention.js';

/** `raw` (the default, RAW_RETENTION) and the two downsampled policies `agg_1m`, `agg_1h` (AGG_RETENTION). */
export const RetentionPolicies0001: InfluxMigration = {
  id: '0001-retention-policies',
  async up(ctx) {
    await ensureRetentionPolicy(ctx, 'raw', ctx.rawRetention, true);
    await ensureRetentionPolicy(ctx, 'agg_1m', ctx.aggRetention, false);
    await ensureRetentionPolicy(ctx, 'agg_1h', ctx.aggRetention, false);
  },
};
