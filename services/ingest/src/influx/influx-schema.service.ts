import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { INGEST_CONFIG, type IngestConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { InfluxClient } from './influx.client.js';
import { quoteIdent } from './influxql.js';
import { INFLUX_MIGRATIONS, type InfluxMigration, type MigrationContext } from './migrations/index.js';
import { ensureRetentionPolicy } from './migrations/retention.js';

/** Where applied steps are recorded: a retention policy that never expires. */
export const META_RP = 'agentmon_meta';
export const MIGRATIONS_MEASUREMENT = 'schema_migrations';

/**
 * Runs the numbered InfluxDB steps that were not applied yet, records each in `agentmon_meta`
 * (retention INF), then makes the retention durations match the configuration (they are settings,
 * not schema, so they are reconciled on every start). Every step is idempotent, so replicas
 * starting together or a step interrupted half-way do no harm.
 */
export async function migrateInflux(ctx: MigrationContext, migrations: InfluxMigration[], logger?: Logger): Promise<string[]> {
  const { client } = ctx;
  const db = quoteIdent(ctx.database);
  await client.query(`CREATE DATABASE ${db}`);
  const rps = await client.query(`SHOW RETENTION POLICIES ON ${db}`);
  if (!(rps[0]?.series?.[0]?.values ?? []).some((v) => v[0] === META_RP)) {
    await client.query(`CREATE RETENTION POLICY ${quoteIdent(META_RP)} ON ${db} DURATION INF REPLICATION 1`);
  }
  const applied = await appliedSteps(ctx);
  const ran: string[] = [];
  for (const m of [...migrations].sort((a, b) => a.id.localeCompare(b.id))) {
    if (applied.has(m.id)) continue;
    logger?.info({ step: m.id }, 'applying InfluxDB migration');
    await m.up(ctx);
    await client.write(`${MIGRATIONS_MEASUREMENT},step=${m.id.replace(/[,= ]/g, '_')} applied=true ${Date.now()}`, META_RP);
    ran.push(m.id);
  }
  await ensureRetentionPolicy(ctx, 'raw', ctx.rawRetention, true);
  await ensureRetentionPolicy(ctx, 'agg_1m', ctx.aggRetention, false);
  await ensureRetentionPolicy(ctx, 'agg_1h', ctx.aggRetention, false);
  return ran;
}

export async function appliedSteps(ctx: MigrationContext): Promise<Set<string>> {
  const res = await ctx.client.query(
    `SELECT "applied", "step" FROM ${quoteIdent(ctx.database)}.${quoteIdent(META_RP)}.${quoteIdent(MIGRATIONS_MEASUREMENT)}`,
  );
  const out = new Set<string>();
  for (const s of res[0]?.series ?? []) {
    const i = s.columns.indexOf('step');
    for (const v of s.values ?? []) out.add(String(v[i]));
  }
  return out;
}

/**
 * Keeps the InfluxDB schema current. The first attempt runs during start-up; when InfluxDB is not
 * reachable the service still starts (agents can push, JetStream keeps the points) and the
 * migration is retried in the background. The writer and the queries wait for `ready`.
 */
@Injectable()
export class InfluxSchemaService implements OnModuleInit, OnApplicationShutdown {
  private stopped = false;
  private resolveReady!: () => void;
  readonly ready: Promise<void> = new Promise((r) => (this.resolveReady = r));
  private done = false;

  constructor(
    @Inject(InfluxClient) private readonly client: InfluxClient,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get isReady(): boolean {
    return this.done;
  }

  async onModuleInit(): Promise<void> {
    if (await this.attempt()) return;
    void this.retry();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
  }

  private async retry(): Promise<void> {
    let delay = 1000;
    while (!this.stopped && !this.done) {
      await new Promise((r) => setTimeout(r, delay).unref());
      delay = Math.min(delay * 2, 30_000);
      if (!this.stopped) await this.attempt();
    }
  }

  private async attempt(): Promise<boolean> {
    try {
      const ran = await migrateInflux(
        { client: this.client, database: this.config.INFLUX_DATABASE, rawRetention: this.config.RAW_RETENTION, aggRetention: this.config.AGG_RETENTION },
        INFLUX_MIGRATIONS,
        this.logger,
      );
      this.logger.info({ database: this.config.INFLUX_DATABASE, applied: ran }, 'InfluxDB schema is current');
      this.done = true;
      this.resolveReady();
      return true;
    } catch (err) {
      this.logger.warn({ err }, 'InfluxDB schema could not be migrated yet; retrying');
      return false;
    }
  }
}
