import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Migration 0001: alert rules, alert instances (one open per rule and agent), the audit outbox.
 * TypeORM orders migrations by the 13-digit number that ends the name: 1764230400000 + the
 * migration's number.
 */
export class AlertingInit1764230400001 implements MigrationInterface {
  name = 'AlertingInit1764230400001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE alert_rules (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        description text,
        severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        enabled boolean NOT NULL,
        for_duration text NOT NULL,
        for_ms bigint NOT NULL CHECK (for_ms >= 0),
        scope jsonb NOT NULL,
        condition jsonb NOT NULL,
        labels jsonb NOT NULL,
        group_by jsonb,
        channels jsonb NOT NULL,
        escalation_policy_id uuid,
        revision integer NOT NULL DEFAULT 1,
        created_by text,
        updated_by text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        deleted_at timestamptz
      )`);
    // names are unique among live rules (409 on a duplicate), whatever their case
    await q.query(`CREATE UNIQUE INDEX alert_rules_live_name ON alert_rules (lower(name)) WHERE deleted_at IS NULL`);
    await q.query(`CREATE INDEX alert_rules_live_page ON alert_rules (created_at, id) WHERE deleted_at IS NULL`);

    await q.query(`
      CREATE TABLE alert_instances (
        id uuid PRIMARY KEY,
        rule_id uuid NOT NULL REFERENCES alert_rules (id),
        rule_name text NOT NULL,
        agent_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'firing', 'resolved')),
        severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        value double precision,
        threshold double precision,
        summary text NOT NULL,
        labels jsonb NOT NULL,
        agent_groups text[] NOT NULL DEFAULT '{}',
        started_at timestamptz NOT NULL,
        fired_at timestamptz,
        fired_value double precision,
        fired_summary text,
        resolved_at timestamptz,
        last_evaluated_at timestamptz NOT NULL,
        acknowledged_by text,
        acknowledged_at timestamptz,
        fired_published_at timestamptz,
        resolved_published_at timestamptz,
        updated_at timestamptz NOT NULL,
        CHECK (status <> 'firing' OR fired_at IS NOT NULL),
        CHECK (status <> 'resolved' OR resolved_at IS NOT NULL)
      )`);
    // the heart of the lifecycle: at most one open (pending or firing) alert per rule and agent
    await q.query(
      `CREATE UNIQUE INDEX alert_instances_one_open ON alert_instances (rule_id, agent_id) WHERE status IN ('pending', 'firing')`,
    );
    await q.query(`CREATE INDEX alert_instances_open_agent ON alert_instances (agent_id) WHERE status IN ('pending', 'firing')`);
    await q.query(`CREATE INDEX alert_instances_history ON alert_instances (started_at DESC, id DESC)`);
    await q.query(`CREATE INDEX alert_instances_status_history ON alert_instances (status, started_at DESC, id DESC)`);
    await q.query(`CREATE INDEX alert_instances_pending_started ON alert_instances (started_at) WHERE status = 'pending'`);
    await q.query(`
      CREATE INDEX alert_instances_unpublished ON alert_instances (updated_at)
      WHERE fired_at IS NOT NULL AND (fired_published_at IS NULL OR (status = 'resolved' AND resolved_published_at IS NULL))`);

    await q.query(`
      CREATE TABLE audit_outbox (
        id uuid PRIMARY KEY,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        published_at timestamptz
      )`);
    await q.query(`CREATE INDEX audit_outbox_unpublished ON audit_outbox (created_at) WHERE published_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_outbox`);
    await q.query(`DROP TABLE alert_instances`);
    await q.query(`DROP TABLE alert_rules`);
  }
}
