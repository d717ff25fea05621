import type { MigrationInterface, QueryRunner } from 'typeorm';

/** TypeORM wants a 13-digit timestamp at the end of each migration name; it orders by it. */
export class Agents1764201600001 implements MigrationInterface {
  name = 'Agents1764201600001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE agents (
        id text PRIMARY KEY,
        name text NOT NULL,
        type text,
        version text,
        host text,
        region text,
        status text NOT NULL CHECK (status IN ('online', 'offline', 'degraded')),
        last_seen timestamptz,
        status_changed_at timestamptz NOT NULL DEFAULT now(),
        config_version integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX agents_status_last_seen ON agents (status, last_seen)`);
    await q.query(`
      CREATE TABLE agent_tags (
        agent_id text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
        key text NOT NULL,
        value text NOT NULL,
        PRIMARY KEY (agent_id, key)
      )`);
    await q.query(`CREATE INDEX agent_tags_key_value ON agent_tags (key, value)`);
    await q.query(`
      CREATE TABLE agent_configs (
        agent_id text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
        version integer NOT NULL,
        config jsonb NOT NULL,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (agent_id, version)
      )`);
    await q.query(`
      CREATE TABLE outbox (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        subject text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      )`);
    await q.query(`CREATE INDEX outbox_unpublished ON outbox (created_at) WHERE published_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE outbox');
    await q.query('DROP TABLE agent_configs');
    await q.query('DROP TABLE agent_tags');
    await q.query('DROP TABLE agents');
  }
}
