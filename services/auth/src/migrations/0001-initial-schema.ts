import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * users, user_sessions (refresh tokens), api_keys, audit_logs (append-only), signing_keys.
 * Timestamps have millisecond precision so that keyset cursors made from JavaScript dates are exact.
 */
export class InitialSchema0000000000001 implements MigrationInterface {
  name = 'InitialSchema0000000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        username text NOT NULL,
        email text,
        role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        active boolean NOT NULL DEFAULT true,
        password_hash text NOT NULL,
        password_changed_at timestamptz(3) NOT NULL DEFAULT now(),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username))`);

    await q.query(`
      CREATE TABLE user_sessions (
        id uuid PRIMARY KEY,
        family_id uuid NOT NULL,
        user_id uuid NOT NULL REFERENCES users (id),
        token_hash text NOT NULL,
        expires_at timestamptz(3) NOT NULL,
        rotated_at timestamptz(3),
        replaced_by uuid,
        revoked_at timestamptz(3),
        revoked_reason text,
        ip text,
        user_agent text,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX user_sessions_token_hash_key ON user_sessions (token_hash)`);
    await q.query(`CREATE INDEX user_sessions_family_idx ON user_sessions (family_id)`);
    await q.query(`CREATE INDEX user_sessions_user_live_idx ON user_sessions (user_id) WHERE revoked_at IS NULL`);
    await q.query(`CREATE INDEX user_sessions_expires_idx ON user_sessions (expires_at)`);

    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        prefix text NOT NULL,
        key_hash text NOT NULL,
        permissions text[] NOT NULL
          CHECK (cardinality(permissions) > 0 AND permissions <@ ARRAY['ingest:write', 'read', 'write', 'admin']),
        owner_id uuid NOT NULL REFERENCES users (id),
        agent_id text,
        expires_at timestamptz(3),
        last_used_at timestamptz(3),
        last_used_ip text,
        revoked_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX api_keys_key_hash_key ON api_keys (key_hash)`);
    await q.query(`CREATE INDEX api_keys_owner_page_idx ON api_keys (owner_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX api_keys_page_idx ON api_keys (created_at DESC, id DESC)`);

    await q.query(`
      CREATE TABLE audit_logs (
        id uuid PRIMARY KEY,
        at timestamptz(3) NOT NULL,
        actor_kind text NOT NULL,
        actor_id text NOT NULL,
        actor_username text,
        action text NOT NULL,
        resource_type text NOT NULL,
        resource_id text,
        outcome text NOT NULL CHECK (outcome IN ('success', 'failure')),
        ip text,
        before jsonb,
        after jsonb,
        service text NOT NULL,
        request_id text,
        recorded_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX audit_logs_page_idx ON audit_logs (at DESC, id DESC)`);
    await q.query(`CREATE INDEX audit_logs_actor_id_idx ON audit_logs (actor_id, at DESC, id DESC)`);
    await q.query(`CREATE INDEX audit_logs_actor_username_idx ON audit_logs (actor_username, at DESC, id DESC)`);
    await q.query(`CREATE INDEX audit_logs_action_idx ON audit_logs (action, at DESC, id DESC)`);
    await q.query(`CREATE INDEX audit_logs_resource_type_idx ON audit_logs (resource_type, at DESC, id DESC)`);
    // The audit log is evidence: rows are never changed or removed by the application.
    await q.query(`
      CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_logs is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
      FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only()`);

    await q.query(`
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        alg text NOT NULL,
        public_jwk jsonb NOT NULL,
        private_key_enc text NOT NULL,
        status text NOT NULL CHECK (status IN ('active', 'retired')),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        retired_at timestamptz(3)
      )`);
    // at most one key signs at a time, whatever several replicas do at start
    await q.query(`CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (status) WHERE status = 'active'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE signing_keys`);
    await q.query(`DROP TRIGGER audit_logs_append_only ON audit_logs`);
    await q.query(`DROP TABLE audit_logs`);
    await q.query(`DROP FUNCTION audit_logs_append_only()`);
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE user_sessions`);
    await q.query(`DROP TABLE users`);
  }
}
