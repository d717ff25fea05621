import type { ConnectionOptions } from 'node:tls';
import { Client } from 'pg';
import { AppError } from '@agentmon/contracts';
import { DataSource, type DataSourceOptions, type MigrationInterface, type EntitySchema } from 'typeorm';

/** node-postgres `ssl`: false for plain TCP, or tls.connect options (see postgresConnection in @agentmon/config). */
export type PostgresSsl = false | ConnectionOptions;

const SSL_URL_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl', 'sslcrl', 'sslpassword'];

/**
 * With an explicit `ssl`, the URL's own TLS parameters are dropped: node-postgres lets those override
 * the `ssl` option, which would silently replace the configured CA or verification.
 */
function effectiveUrl(url: string, ssl: PostgresSsl | undefined): string {
  if (ssl === undefined) return url;
  const u = new URL(url);
  for (const p of SSL_URL_PARAMS) u.searchParams.delete(p);
  return u.toString();
}

/** Creates the service's database when it does not exist yet (needs CREATEDB on the server). */
export async function ensureDatabase(url: string, ssl?: PostgresSsl): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`database name ${name} must be letters, digits and _`);
  const admin = new URL(effectiveUrl(url, ssl));
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), ...(ssl !== undefined ? { ssl } : {}) });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } catch (err) {
        // another replica created it at the same moment
        if ((err as { code?: string }).code !== '42P04') throw err;
      }
    }
  } finally {
    await client.end();
  }
}

const MIGRATION_LOCK_KEY = 7_246_388_411; // any constant; one lock per database

export interface ServiceDataSourceOptions {
  url: string;
  entities: (EntitySchema | (new (...args: never[]) => unknown))[];
  migrations: (new () => MigrationInterface)[];
  /** a name for the connection, shown in pg_stat_activity */
  applicationName: string;
  poolSize?: number;
  /** TLS (from postgresConnection in @agentmon/config); undefined keeps node-postgres' defaults (plain TCP) */
  ssl?: PostgresSsl;
}

/**
 * The service's own PostgreSQL: created if missing, migrated with its versioned migrations
 * (never synchronize), each migration in its own transaction.
 */
export async function openDataSource(opts: ServiceDataSourceOptions): Promise<DataSource> {
  await ensureDatabase(opts.url, opts.ssl);
  const ds = new DataSource({
    type: 'postgres',
    url: effectiveUrl(opts.url, opts.ssl),
    ...(opts.ssl !== undefined ? { ssl: opts.ssl } : {}),
    entities: opts.entities,
    migrations: opts.migrations,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    applicationName: opts.applicationName,
    extra: { max: opts.poolSize ?? 10 },
  } as DataSourceOptions);
  await ds.initialize();
  // Replicas starting together take turns: the first migrates, the others find nothing to do.
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
  return ds;
}

/** Opaque keyset cursors: base64url of the last row's sort key. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
export function decodeCursor<T>(cursor: string | undefined): T | undefined {
  if (!cursor) return undefined;
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString()) as T;
  } catch {
    throw new AppError('bad_request', 'cursor is not valid', [{ path: 'cursor', reason: 'not a cursor this endpoint returned' }]);
  }
}

/** Readiness check for a TypeORM data source. */
export function postgresCheck(ds: DataSource): { name: string; check: () => Promise<void> } {
  return { name: 'postgres', check: async () => void (await ds.query('SELECT 1')) };
}

/** `MIGRATE_ONLY=true`: create the database if needed, apply pending migrations, close. */
export async function migrateOnly(opts: ServiceDataSourceOptions): Promise<string[]> {
  const ds = await openDataSource(opts);
  try {
    const rows: { name: string }[] = await ds.query('SELECT name FROM schema_migrations ORDER BY id');
    return rows.map((r) => r.name);
  } finally {
    await ds.destroy();
  }
}
