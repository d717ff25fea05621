import type { MigrationInterface, QueryRunner } from 'typeorm';

/** notification_channels and alert_notifications. */
export class NotificationInitial1764201600001 implements MigrationInterface {
  name = 'NotificationInitial1764201600001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notification_channels (
        id uuid PRIMARY KEY,
        name varchar(256) NOT NULL,
        type varchar(16) NOT NULL CHECK (type IN ('webhook', 'slack', 'teams', 'email')),
        config jsonb NOT NULL,
        secrets text NOT NULL,
        created_by varchar(128),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // names are unique regardless of case, so "Ops" and "ops" cannot both exist
    await q.query(`CREATE UNIQUE INDEX notification_channels_name_key ON notification_channels (lower(name))`);
    await q.query(`CREATE INDEX notification_channels_page_idx ON notification_channels (created_at, id)`);
    await q.query(`
      CREATE TABLE alert_notifications (
        id uuid PRIMARY KEY,
        alert_id varchar(128) NOT NULL,
        rule_id varchar(128),
        channel_id uuid NOT NULL,
        channel_type varchar(16) NOT NULL,
        event varchar(16) NOT NULL CHECK (event IN ('firing', 'resolved', 'test')),
        attempt int NOT NULL CHECK (attempt >= 1),
        status varchar(16) NOT NULL CHECK (status IN ('delivered', 'failed')),
        response_code int,
        error text,
        final boolean NOT NULL DEFAULT false,
        duration_ms int,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX alert_notifications_alert_idx ON alert_notifications (alert_id, event, channel_id, attempt)`);
    await q.query(`CREATE INDEX alert_notifications_channel_idx ON alert_notifications (channel_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE alert_notifications');
    await q.query('DROP TABLE notification_channels');
  }
}
