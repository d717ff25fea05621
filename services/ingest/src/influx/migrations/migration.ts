import type { InfluxClient } from '../influx.client.js';

/** What a step may depend on besides the client: the configured names and durations. */
export interface MigrationContext {
  client: InfluxClient;
  database: string;
  rawRetention: string;
  aggRetention: string;
}

/** One numbered, idempotent step of the InfluxDB schema (retention policies; continuous queries until 0005). */
export interface InfluxMigration {
  /** `0001-retention-policies`: sorted by this, recorded by this */
  id: string;
  up(ctx: MigrationContext): Promise<void>;
}
