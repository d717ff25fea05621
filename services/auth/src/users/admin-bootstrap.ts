import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { ADVISORY_LOCKS } from '../advisory-locks.js';
import { generatePassword, hashPassword } from '../crypto/password.js';
import type { AuditRecorder } from '../audit/audit-recorder.service.js';

export const FIRST_ADMIN_USERNAME = 'admin';

export interface FirstAdminOptions {
  /** AGENTMON_ADMIN_PASSWORD; a random password is generated when absent */
  password: string | undefined;
  /** where a generated password is shown, once (stdout in production) */
  announce: (line: string) => void;
}

/**
 * On the first start (no users at all) creates `admin` with role admin. Replicas starting together
 * serialise on an advisory lock, so exactly one creates it and only that one shows a generated password.
 */
export async function ensureFirstAdmin(ds: DataSource, audit: AuditRecorder, logger: Logger, opts: FirstAdminOptions): Promise<'created' | 'exists'> {
  const generated = opts.password === undefined ? generatePassword() : undefined;
  const password = opts.password ?? generated!;
  const created = await ds.transaction(async (m) => {
    await m.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.adminBootstrap]);
    const [{ any }] = (await m.query('SELECT EXISTS (SELECT 1 FROM users) AS any')) as [{ any: boolean }];
    if (any) return undefined;
    const id = randomUUID();
    await m.query(`INSERT INTO users (id, username, email, role, active, password_hash) VALUES ($1, $2, NULL, 'admin', true, $3)`, [
      id,
      FIRST_ADMIN_USERNAME,
      await hashPassword(password),
    ]);
    return id;
  });
  if (!created) return 'exists';

  logger.info({ user_id: created, username: FIRST_ADMIN_USERNAME, password_source: generated ? 'generated' : 'AGENTMON_ADMIN_PASSWORD' }, 'first admin user created');
  if (generated) {
    // The one secret this service ever prints: there is no other way to learn it.
    opts.announce(
      `agentmon auth: created the first user "${FIRST_ADMIN_USERNAME}" with the generated password: ${generated}\n` +
        'agentmon auth: this password is shown only once; sign in and change it, or set AGENTMON_ADMIN_PASSWORD before the first start.\n',
    );
  }
  await audit.record({
    actor: { kind: 'system', id: 'auth' },
    action: 'user.create',
    resource_type: 'user',
    resource_id: created,
    outcome: 'success',
    after: { username: FIRST_ADMIN_USERNAME, role: 'admin', active: true, reason: 'first start' },
  });
  return 'created';
}
