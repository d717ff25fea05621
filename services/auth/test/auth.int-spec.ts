import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { AccessTokenClaimsSchema, AppError, RevocationEventSchema, STREAMS, type Principal, type RevocationEvent, type Role, type TokenPair } from '@agentmon/contracts';
import { EventBus, RpcClient } from '@agentmon/messaging';
import { createLogger } from '@agentmon/observability';
import { bootstrapService } from '@agentmon/http-kit';
import { INTEGRATION_PORTS, TEST_INFRA } from '../../../test/support/test-env.js';
import { dropDatabase } from '../../../test/support/database.js';
import { deleteConsumerUnderService, resetStreams } from '../../../test/support/nats.js';
import { AppModule } from '../src/app.module.js';
import { AuthConfigSchema } from '../src/config.js';
import { rolePermissions } from '../src/api-keys/permissions.js';
import { verifyAccessToken } from '../src/signing-keys/jwt.js';
import { SigningKeyService } from '../src/signing-keys/signing-key.service.js';
import { AUDIT_CONSUMER } from '../src/audit/audit-consumer.service.js';

const DATABASE_URL = TEST_INFRA.postgresUrl('auth_int');
const PORT = INTEGRATION_PORTS.auth;
const ADMIN_PASSWORD = 'integration-admin-password';

let app: INestApplication;
let rpc: RpcClient;
let db: Client;

beforeAll(async () => {
  await dropDatabase(DATABASE_URL);
  await resetStreams(TEST_INFRA.natsUrl);
  const config = AuthConfigSchema.parse({
    PORT: String(PORT),
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    NATS_URL: TEST_INFRA.natsUrl,
    DATABASE_URL,
    AUTH_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    AGENTMON_ADMIN_PASSWORD: ADMIN_PASSWORD,
  });
  const logger = createLogger('auth', config.LOG_LEVEL);
  app = await bootstrapService({
    service: 'auth',
    module: AppModule.forRoot(config, logger),
    logger,
    port: config.PORT,
    host: config.HTTP_HOST,
    natsUrl: config.NATS_URL,
    rpc: true,
  });
  rpc = new RpcClient(TEST_INFRA.natsUrl, 10_000, 'auth-int-test');
  await rpc.connect();
  db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
});

afterAll(async () => {
  await rpc?.close();
  await db?.end();
  await app?.close();
});

// ---- small factories and helpers -------------------------------------------------------------

function principalFrom(pair: TokenPair): Principal {
  // the claims the gateway relies on (contract schema)
  const claims = AccessTokenClaimsSchema.parse(decodeJwt(pair.access_token));
  return {
    kind: 'user',
    id: claims.sub,
    user_id: claims.sub,
    username: claims.username,
    role: claims.role,
    permissions: rolePermissions(claims.role),
    session_id: claims.sid,
    ip: '203.0.113.7',
  };
}

function login(username: string, password: string) {
  return rpc.request('rpc.auth.login.v1', { username, password, ip: '203.0.113.7', user_agent: 'jest' });
}

async function adminPrincipal(): Promise<Principal> {
  return principalFrom(await login('admin', ADMIN_PASSWORD));
}

let userSeq = 0;
async function createUser(role: Role, password = `pw-${randomUUID()}`) {
  const username = `${role}-${++userSeq}-${randomBytes(3).toString('hex')}`;
  const user = await rpc.request('rpc.auth.user.create.v1', {
    principal: await adminPrincipal(),
    user: { username, email: `${username}@example.com`, password, role },
  });
  const principal = principalFrom(await login(username, password));
  return { user, password, principal };
}

/** The error an RPC failed with (the caller sees an AppError with the contract's status). */
async function rpcError(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected the request to fail');
}

async function auditRows(where: string, params: unknown[]) {
  return (await db.query(`SELECT * FROM audit_logs WHERE ${where} ORDER BY at`, params)).rows as Array<Record<string, any>>;
}
/** Audit events travel through JetStream and the durable consumer; wait until they are stored. */
async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

// ---- tests ------------------------------------------------------------------------------------

describe('service start', () => {
  it('answers health over NATS and HTTP', async () => {
    const health = await rpc.request('rpc.auth.health.v1', {});
    expect(health).toMatchObject({ service: 'auth', status: 'ok', checks: { postgres: { status: 'ok' }, nats: { status: 'ok' } } });
    const res = await fetch(`http://127.0.0.1:${PORT}/health/ready`);
    expect(res.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${PORT}/metrics`)).text();
    expect(metrics).toContain('agentmon_auth_logins_total');
  });

  it('created the first admin with the configured password, hashed', async () => {
    const { rows } = await db.query(`SELECT username, role, active, password_hash FROM users`);
    expect(rows).toEqual([{ username: 'admin', role: 'admin', active: true, password_hash: expect.stringMatching(/^scrypt\$/) }]);
    expect(rows[0].password_hash).not.toContain(ADMIN_PASSWORD);
  });

  it('stores the signing key encrypted', async () => {
    const { rows } = await db.query(`SELECT kid, status, private_key_enc, public_jwk FROM signing_keys`);
    expect(rows).toHaveLength(1);
    expect(rows[0].status).toBe('active');
    expect(rows[0].private_key_enc).toMatch(/^v1\./);
    expect(rows[0].private_key_enc).not.toMatch(/PRIVATE KEY/);
    expect(rows[0].public_jwk).not.toHaveProperty('d');
  });
});

describe('login and tokens', () => {
  it('logs the admin in and issues an access token the JWKS verifies', async () => {
    const pair = await login('admin', ADMIN_PASSWORD);
    expect(pair).toMatchObject({ token_type: 'Bearer', expires_in: 900, refresh_token: expect.stringMatching(/^amr_/) });

    const jwks = await rpc.request('rpc.auth.jwks.v1', {});
    expect(jwks.keys.length).toBeGreaterThanOrEqual(1);
    for (const k of jwks.keys) {
      expect(k).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) });
      expect(k).not.toHaveProperty('d');
    }
    const { payload, protectedHeader } = await verifyAccessToken(pair.access_token, jwks);
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: jwks.keys[0]!.kid });
    const { rows } = await db.query(`SELECT id FROM users WHERE username = 'admin'`);
    expect(payload).toMatchObject({ iss: 'agentmon', aud: 'agentmon', sub: rows[0].id, username: 'admin', role: 'admin', sid: expect.any(String), jti: expect.any(String) });
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(await rpc.request('rpc.auth.session.check.v1', { session_id: payload.sid as string })).toEqual({ active: true });
  });

  it('finds the username regardless of case', async () => {
    await expect(login('ADMIN', ADMIN_PASSWORD)).resolves.toMatchObject({ token_type: 'Bearer' });
  });

  it('answers 401 with the same message for a wrong password and an unknown user', async () => {
    const wrong = await rpcError(login('admin', 'not-the-admin-password'));
    const unknown = await rpcError(login('nobody-here', 'not-the-admin-password'));
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.message).toBe(unknown.message);
  });

  it('answers 400 naming the field for a malformed request', async () => {
    const err = await rpcError(rpc.request('rpc.auth.login.v1', { username: '', password: 'x' }));
    expect(err.statusCode).toBe(400);
    expect(err.details?.[0]?.path).toBe('username');
  });

  it('rotates the refresh token on every refresh, and a replayed one revokes the whole session', async () => {
    const first = await login('admin', ADMIN_PASSWORD);
    const sid = principalFrom(first).session_id!;
    const second = await rpc.request('rpc.auth.refresh.v1', { refresh_token: first.refresh_token });
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect(principalFrom(second).session_id).toBe(sid);
    const third = await rpc.request('rpc.auth.refresh.v1', { refresh_token: second.refresh_token });
    expect(await rpc.request('rpc.auth.session.check.v1', { session_id: sid })).toEqual({ active: true });

    // the first token again: reuse detected, the family (and so both tokens) is revoked
    expect((await rpcError(rpc.request('rpc.auth.refresh.v1', { refresh_token: first.refresh_token }))).statusCode).toBe(401);
    expect((await rpcError(rpc.request('rpc.auth.refresh.v1', { refresh_token: third.refresh_token }))).statusCode).toBe(401);
    expect(await rpc.request('rpc.auth.session.check.v1', { session_id: sid })).toEqual({ active: false });

    // only hashes are stored
    const { rows } = await db.query(`SELECT token_hash, revoked_at, revoked_reason FROM user_sessions WHERE family_id = $1`, [sid]);
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r.token_hash).sort()).toEqual([first, second, third].map((p) => sha256(p.refresh_token)).sort());
    expect(rows.every((r) => r.revoked_at !== null && r.revoked_reason === 'reuse')).toBe(true);

    const reuse = await eventually(() => auditRows(`action = 'auth.refresh' AND resource_id = $1`, [sid]), (r) => r.length > 0);
    expect(reuse[0]).toMatchObject({ outcome: 'failure', after: { reason: 'refresh_token_reused', session_revoked: true } });
  });

  it('refuses an unknown refresh token', async () => {
    const err = await rpcError(rpc.request('rpc.auth.refresh.v1', { refresh_token: `amr_${randomBytes(32).toString('base64url')}` }));
    expect(err.statusCode).toBe(401);
  });

  it('logout revokes the session: the session check says so and the refresh token stops working', async () => {
    const pair = await login('admin', ADMIN_PASSWORD);
    const principal = principalFrom(pair);
    expect(await rpc.request('rpc.auth.session.check.v1', { session_id: principal.session_id! })).toEqual({ active: true });
    expect(await rpc.request('rpc.auth.logout.v1', { principal })).toEqual({ ok: true });
    expect(await rpc.request('rpc.auth.session.check.v1', { session_id: principal.session_id! })).toEqual({ active: false });
    expect((await rpcError(rpc.request('rpc.auth.refresh.v1', { refresh_token: pair.refresh_token }))).statusCode).toBe(401);
  });

  it('says a made-up session is not active', async () => {
    expect(await rpc.request('rpc.auth.session.check.v1', { session_id: randomUUID() })).toEqual({ active: false });
    expect(await rpc.request('rpc.auth.session.check.v1', { session_id: 'not-a-uuid' })).toEqual({ active: false });
  });

  it('keeps the previous key in the JWKS after a rotation, so earlier tokens still verify', async () => {
    const before = await login('admin', ADMIN_PASSWORD);
    const oldKid = decodeProtectedHeader(before.access_token).kid;
    await app.get(SigningKeyService).rotate();
    const after = await login('admin', ADMIN_PASSWORD);
    const newKid = decodeProtectedHeader(after.access_token).kid;
    expect(newKid).not.toBe(oldKid);
    const jwks = await rpc.request('rpc.auth.jwks.v1', {});
    expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
    await expect(verifyAccessToken(before.access_token, jwks)).resolves.toBeDefined();
    await expect(verifyAccessToken(after.access_token, jwks)).resolves.toBeDefined();
  });
});

describe('users', () => {
  it('lets an admin create a user, who can then log in and read their profile', async () => {
    const { user, principal } = await createUser('viewer');
    expect(user).toMatchObject({ role: 'viewer', active: true, email: `${user.username}@example.com` });
    expect(user).not.toHaveProperty('password_hash');
    const profile = await rpc.request('rpc.auth.user.profile.v1', { principal });
    expect(profile).toEqual(user);
  });

  it('answers 409 for a duplicate username, whatever its case', async () => {
    const { user } = await createUser('viewer');
    const principal = await adminPrincipal();
    for (const username of [user.username, user.username.toUpperCase()]) {
      const err = await rpcError(
        rpc.request('rpc.auth.user.create.v1', { principal, user: { username, email: 'dup@example.com', password: 'a-long-enough-password', role: 'viewer' } }),
      );
      expect(err.statusCode).toBe(409);
    }
  });

  it('answers 400 naming the field for a weak password', async () => {
    const err = await rpcError(
      rpc.request('rpc.auth.user.create.v1', {
        principal: await adminPrincipal(),
        user: { username: 'weak-password-user', email: 'weak@example.com', password: 'short', role: 'viewer' },
      }),
    );
    expect(err.statusCode).toBe(400);
    expect(err.details).toEqual([{ path: 'user.password', reason: expect.stringMatching(/12/) }]);
  });

  it('forbids a viewer (or operator) to create users, even if the gateway let the call through', async () => {
    for (const role of ['viewer', 'operator'] as const) {
      const { principal } = await createUser(role);
      const err = await rpcError(
        rpc.request('rpc.auth.user.create.v1', {
          principal,
          user: { username: `made-by-${role}`, email: 'x@example.com', password: 'a-long-enough-password', role: 'admin' },
        }),
      );
      expect(err.statusCode).toBe(403);
      expect((await rpcError(rpc.request('rpc.auth.user.list.v1', { principal, page: {} }))).statusCode).toBe(403);
    }
    const { rows } = await db.query(`SELECT 1 FROM users WHERE username LIKE 'made-by-%'`);
    expect(rows).toHaveLength(0);
  });

  it('lists users with keyset pagination', async () => {
    await createUser('viewer');
    const principal = await adminPrincipal();
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 50; i++) {
      const page = await rpc.request('rpc.auth.user.list.v1', { principal, page: { limit: 2, ...(cursor ? { cursor } : {}) } });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((u) => u.username));
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    const { rows } = await db.query(`SELECT username FROM users ORDER BY lower(username)`);
    expect(seen).toEqual(rows.map((r) => r.username));
    expect(new Set(seen).size).toBe(seen.length);
    const bad = await rpcError(rpc.request('rpc.auth.user.list.v1', { principal, page: { cursor: 'garbage' } }));
    expect(bad.statusCode).toBe(400);
  });

  it('deactivating a user ends their sessions and stops their login', async () => {
    const { user, password, principal } = await createUser('operator');
    const updated = await rpc.request('rpc.auth.user.update.v1', { principal: await adminPrincipal(), id: user.id, patch: { active: false } });
    expect(updated.active).toBe(false);
    expect(await rpc.request('rpc.auth.session.check.v1', { session_id: principal.session_id! })).toEqual({ active: false });
    const err = await rpcError(login(user.username, password));
    expect(err.statusCode).toBe(401);
    expect(err.message).toBe((await rpcError(login('nobody-here', password))).message);

    await rpc.request('rpc.auth.user.update.v1', { principal: await adminPrincipal(), id: user.id, patch: { active: true } });
    await expect(login(user.username, password)).resolves.toMatchObject({ token_type: 'Bearer' });
  });

  it('changing a password ends the sessions; the new password works and the old one does not', async () => {
    const { user, password, principal } = await createUser('viewer');
    const pair = await login(user.username, password);
    await rpc.request('rpc.auth.user.update.v1', { principal: await adminPrincipal(), id: user.id, patch: { password: 'a-brand-new-password' } });
    expect(await rpc.request('rpc.auth.session.check.v1', { session_id: principal.session_id! })).toEqual({ active: false });
    expect((await rpcError(rpc.request('rpc.auth.refresh.v1', { refresh_token: pair.refresh_token }))).statusCode).toBe(401);
    expect((await rpcError(login(user.username, password))).statusCode).toBe(401);
    await expect(login(user.username, 'a-brand-new-password')).resolves.toMatchObject({ token_type: 'Bearer' });
    const weak = await rpcError(rpc.request('rpc.auth.user.update.v1', { principal: await adminPrincipal(), id: user.id, patch: { password: 'short' } }));
    expect(weak.statusCode).toBe(400);
  });

  it('changes a role, answers 404 for an unknown user and keeps the last admin', async () => {
    const admin = await adminPrincipal();
    const { user } = await createUser('viewer');
    expect((await rpc.request('rpc.auth.user.update.v1', { principal: admin, id: user.id, patch: { role: 'operator' } })).role).toBe('operator');
    expect((await rpcError(rpc.request('rpc.auth.user.update.v1', { principal: admin, id: randomUUID(), patch: { active: false } }))).statusCode).toBe(404);
    const last = await rpcError(rpc.request('rpc.auth.user.update.v1', { principal: admin, id: admin.user_id, patch: { role: 'viewer' } }));
    expect(last.statusCode).toBe(409);
    const empty = await rpcError(rpc.request('rpc.auth.user.update.v1', { principal: admin, id: user.id, patch: {} }));
    expect(empty.statusCode).toBe(400);
  });
});

describe('API keys', () => {
  it('mints a key shown once and stored only as a hash, which verifies to a capped principal', async () => {
    const { user, principal } = await createUser('operator');
    const created = await rpc.request('rpc.auth.api-key.create.v1', { principal, key: { name: 'ci', permissions: ['read', 'ingest:write'] } });
    expect(created.key).toMatch(/^amk_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: 'ci', owner_id: user.id, permissions: ['ingest:write', 'read'], expires_at: null, revoked_at: null });
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(created.prefix.length).toBeLessThan(16);

    const { rows } = await db.query(`SELECT * FROM api_keys WHERE id = $1`, [created.id]);
    expect(rows[0].key_hash).toBe(sha256(created.key));
    expect(JSON.stringify(rows[0])).not.toContain(created.key);

    const listed = await rpc.request('rpc.auth.api-key.list.v1', { principal, page: {} });
    expect(listed.items.map((k) => k.id)).toEqual([created.id]);
    expect(listed.items[0]).not.toHaveProperty('key');

    const verified = await rpc.request('rpc.auth.api-key.verify.v1', { key: created.key, ip: '198.51.100.1' });
    expect(verified).toMatchObject({ kind: 'api_key', id: created.id, user_id: user.id, username: user.username, role: 'viewer', permissions: ['ingest:write', 'read'] });
    const used = await db.query(`SELECT last_used_at, last_used_ip FROM api_keys WHERE id = $1`, [created.id]);
    expect(used.rows[0]).toMatchObject({ last_used_at: expect.any(Date), last_used_ip: '198.51.100.1' });
  });

  it('caps the role of a key by its permissions', async () => {
    const admin = await adminPrincipal();
    const cases: Array<[Array<'admin' | 'write' | 'read' | 'ingest:write'>, Role]> = [
      [['admin'], 'admin'],
      [['write'], 'operator'],
      [['read'], 'viewer'],
      [['ingest:write'], 'viewer'],
    ];
    for (const [permissions, role] of cases) {
      const { key } = await rpc.request('rpc.auth.api-key.create.v1', { principal: admin, key: { name: `cap-${role}`, permissions } });
      expect(await rpc.request('rpc.auth.api-key.verify.v1', { key })).toMatchObject({ role, permissions, username: 'admin' });
    }
  });

  it('refuses a key with more than its creator holds (403)', async () => {
    const viewer = (await createUser('viewer')).principal;
    const operator = (await createUser('operator')).principal;
    for (const [principal, permissions] of [
      [viewer, ['write']],
      [viewer, ['ingest:write']],
      [operator, ['admin']],
    ] as const) {
      const err = await rpcError(rpc.request('rpc.auth.api-key.create.v1', { principal, key: { name: 'too-much', permissions: [...permissions] } }));
      expect(err.statusCode).toBe(403);
      expect(err.details?.[0]?.path).toBe('key.permissions');
    }
    // a principal that claims more than the user's stored role gets no more than the role
    const forged: Principal = { ...viewer, role: 'admin', permissions: ['admin', 'read', 'write', 'ingest:write'] };
    expect((await rpcError(rpc.request('rpc.auth.api-key.create.v1', { principal: forged, key: { name: 'forged', permissions: ['admin'] } }))).statusCode).toBe(403);
    const { rows } = await db.query(`SELECT 1 FROM api_keys WHERE name IN ('too-much', 'forged')`);
    expect(rows).toHaveLength(0);
  });

  it('refuses a repeated permission and an expiry in the past (400)', async () => {
    const admin = await adminPrincipal();
    expect((await rpcError(rpc.request('rpc.auth.api-key.create.v1', { principal: admin, key: { name: 'x', permissions: ['read', 'read'] } }))).statusCode).toBe(400);
    const past = await rpcError(rpc.request('rpc.auth.api-key.create.v1', { principal: admin, key: { name: 'x', permissions: ['read'], expires_at: Date.now() - 1000 } }));
    expect(past.statusCode).toBe(400);
    expect(past.details?.[0]?.path).toBe('key.expires_at');
  });

  it('revokes a key: later verification fails; only the owner or an admin may revoke it', async () => {
    const owner = (await createUser('operator')).principal;
    const other = (await createUser('operator')).principal;
    const created = await rpc.request('rpc.auth.api-key.create.v1', { principal: owner, key: { name: 'to-revoke', permissions: ['read'] } });
    expect((await rpcError(rpc.request('rpc.auth.api-key.delete.v1', { principal: other, id: created.id }))).statusCode).toBe(404);
    expect((await rpc.request('rpc.auth.api-key.list.v1', { principal: other, page: {} })).items).toEqual([]);
    await expect(rpc.request('rpc.auth.api-key.verify.v1', { key: created.key })).resolves.toMatchObject({ id: created.id });

    expect(await rpc.request('rpc.auth.api-key.delete.v1', { principal: owner, id: created.id })).toEqual({ ok: true });
    expect((await rpcError(rpc.request('rpc.auth.api-key.verify.v1', { key: created.key }))).statusCode).toBe(401);
    const listed = await rpc.request('rpc.auth.api-key.list.v1', { principal: owner, page: {} });
    expect(listed.items[0]).toMatchObject({ id: created.id, revoked_at: expect.any(String) });

    const adminSees = await rpc.request('rpc.auth.api-key.list.v1', { principal: await adminPrincipal(), page: { limit: 1000 } });
    expect(adminSees.items.map((k) => k.id)).toContain(created.id);
    const another = await rpc.request('rpc.auth.api-key.create.v1', { principal: other, key: { name: 'admin-revokes', permissions: ['read'] } });
    expect(await rpc.request('rpc.auth.api-key.delete.v1', { principal: await adminPrincipal(), id: another.id })).toEqual({ ok: true });
    expect((await rpcError(rpc.request('rpc.auth.api-key.verify.v1', { key: another.key }))).statusCode).toBe(401);
  });

  it('refuses unknown and expired keys, and keys of a deactivated creator', async () => {
    expect((await rpcError(rpc.request('rpc.auth.api-key.verify.v1', { key: `amk_${randomBytes(32).toString('base64url')}` }))).statusCode).toBe(401);
    expect((await rpcError(rpc.request('rpc.auth.api-key.verify.v1', { key: 'not-a-key' }))).statusCode).toBe(401);

    const { user, principal } = await createUser('operator');
    const soon = await rpc.request('rpc.auth.api-key.create.v1', { principal, key: { name: 'short-lived', permissions: ['read'], expires_at: Date.now() + 1500 } });
    expect(soon.expires_at).toEqual(expect.any(String));
    await expect(rpc.request('rpc.auth.api-key.verify.v1', { key: soon.key })).resolves.toMatchObject({ id: soon.id });
    await new Promise((r) => setTimeout(r, 1700));
    expect((await rpcError(rpc.request('rpc.auth.api-key.verify.v1', { key: soon.key }))).statusCode).toBe(401);

    const lasting = await rpc.request('rpc.auth.api-key.create.v1', { principal, key: { name: 'lasting', permissions: ['read'] } });
    await rpc.request('rpc.auth.user.update.v1', { principal: await adminPrincipal(), id: user.id, patch: { active: false } });
    expect((await rpcError(rpc.request('rpc.auth.api-key.verify.v1', { key: lasting.key }))).statusCode).toBe(401);
  });

  it('paginates keys newest first', async () => {
    const { principal } = await createUser('operator');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await rpc.request('rpc.auth.api-key.create.v1', { principal, key: { name: `k${i}`, permissions: ['read'] } })).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await rpc.request('rpc.auth.api-key.list.v1', { principal, page: { limit: 2, ...(cursor ? { cursor } : {}) } });
      seen.push(...page.items.map((k) => k.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });
});

describe('audit log', () => {
  it('records logins, logout, user and key changes, and lets only admins read it', async () => {
    const admin = await adminPrincipal();
    const { user, principal } = await createUser('operator');
    await rpcError(login(user.username, 'a-wrong-password-for-this'));
    await rpcError(login('no-such-user-anywhere', 'a-wrong-password-for-this'));
    await rpc.request('rpc.auth.user.update.v1', { principal: admin, id: user.id, patch: { role: 'viewer' } });
    const key = await rpc.request('rpc.auth.api-key.create.v1', { principal: admin, key: { name: 'audited', permissions: ['read'] } });
    await rpc.request('rpc.auth.api-key.delete.v1', { principal: admin, id: key.id });
    await rpc.request('rpc.auth.logout.v1', { principal: admin });

    const expectations: Array<[string, string, string | null, string]> = [
      ['user.create', 'success', user.id, admin.user_id],
      ['auth.login', 'success', null, user.id],
      ['auth.login', 'failure', null, user.id],
      ['auth.login', 'failure', null, 'anonymous'],
      ['user.update', 'success', user.id, admin.user_id],
      ['api_key.create', 'success', key.id, admin.user_id],
      ['api_key.delete', 'success', key.id, admin.user_id],
      ['auth.logout', 'success', admin.session_id!, admin.user_id],
    ];
    for (const [action, outcome, resourceId, actorId] of expectations) {
      const rows = await eventually(
        () =>
          auditRows(`action = $1 AND outcome = $2 AND actor_id = $3 AND ($4::text IS NULL OR resource_id = $4)`, [action, outcome, actorId, resourceId]),
        (r) => r.length > 0,
      );
      expect({ action, outcome, found: rows.length > 0 }).toEqual({ action, outcome, found: true });
      expect(rows[0]).toMatchObject({ service: 'auth' });
    }
    const failedUnknown = await auditRows(`action = 'auth.login' AND actor_kind = 'anonymous' AND actor_username = $1`, ['no-such-user-anywhere']);
    expect(failedUnknown[0]).toMatchObject({ outcome: 'failure', after: { reason: 'unknown_user' }, ip: '203.0.113.7' });
    // secrets never reach the audit log
    const everything = JSON.stringify((await db.query(`SELECT * FROM audit_logs`)).rows);
    expect(everything).not.toContain(key.key);
    expect(everything).not.toContain(ADMIN_PASSWORD);
    expect(everything).not.toContain('a-wrong-password-for-this');

    // reading it: admins only, filtered, keyset-paged
    expect((await rpcError(rpc.request('rpc.auth.audit.list.v1', { principal, query: {} }))).statusCode).toBe(403);
    const creates = await rpc.request('rpc.auth.audit.list.v1', { principal: admin, query: { action: 'api_key.create', actor: 'admin' } });
    expect(creates.items.length).toBeGreaterThan(0);
    expect(creates.items.every((e) => e.action === 'api_key.create' && (e.actor.username === 'admin' || e.actor.id === admin.user_id))).toBe(true);
    expect(creates.items.find((e) => e.resource_id === key.id)).toMatchObject({ resource_type: 'api_key', outcome: 'success', at: expect.any(String) });

    const all: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await rpc.request('rpc.auth.audit.list.v1', { principal: admin, query: { limit: 7, resource_type: 'user', ...(cursor ? { cursor } : {}) } });
      all.push(...page.items.map((e) => e.id));
      expect(page.items.every((e) => e.resource_type === 'user')).toBe(true);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    const { rows } = await db.query(`SELECT id FROM audit_logs WHERE resource_type = 'user' ORDER BY at DESC, id DESC`);
    expect(all).toEqual(rows.map((r) => r.id));

    const none = await rpc.request('rpc.auth.audit.list.v1', { principal: admin, query: { from: Date.now() + 60_000 } });
    expect(none).toEqual({ items: [], next_cursor: null });
  });

  it('stores audit events from other services once, even when delivered twice', async () => {
    const bus = await EventBus.connect(TEST_INFRA.natsUrl, 'auth-int-other-service', createLogger('test', 'silent'));
    try {
      const event = {
        id: randomUUID(),
        at: Date.now(),
        actor: { kind: 'user' as const, id: randomUUID(), username: 'someone' },
        action: 'agent.delete',
        resource_type: 'agent',
        resource_id: 'agent-7',
        outcome: 'success' as const,
        service: 'registry',
      };
      await bus.publish('evt.audit.recorded.v1', event);
      await bus.publish('evt.audit.recorded.v1', event); // no msgId: JetStream stores it twice
      const rows = await eventually(() => auditRows('id = $1', [event.id]), (r) => r.length > 0);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ service: 'registry', action: 'agent.delete', resource_id: 'agent-7' });
      // other services on the shared test NATS may publish audit events too: filter on this actor
      const listed = await rpc.request('rpc.auth.audit.list.v1', { principal: await adminPrincipal(), query: { resource_type: 'agent', actor: event.actor.id } });
      expect(listed.items).toEqual([expect.objectContaining({ id: event.id, service: 'registry', actor: event.actor })]);
    } finally {
      await bus.close();
    }
  });

  it('keeps storing events after its durable consumer was deleted under it', async () => {
    const bus = await EventBus.connect(TEST_INFRA.natsUrl, 'auth-int-consumer-loss', createLogger('test', 'silent'));
    try {
      await deleteConsumerUnderService(bus.jsm, STREAMS.AUDIT.name, AUDIT_CONSUMER);
      const event = {
        id: randomUUID(),
        at: Date.now(),
        actor: { kind: 'system' as const, id: 'alerting' },
        action: 'rule.delete',
        resource_type: 'alert_rule',
        resource_id: randomUUID(),
        outcome: 'success' as const,
        service: 'alerting',
      };
      await bus.publish('evt.audit.recorded.v1', event, { msgId: event.id });
      const rows = await eventually(() => auditRows('id = $1', [event.id]), (r) => r.length > 0, 30_000);
      expect(rows).toHaveLength(1);
    } finally {
      await bus.close();
    }
  });

  it('is append-only', async () => {
    await expect(db.query(`UPDATE audit_logs SET action = 'tampered'`)).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM audit_logs`)).rejects.toThrow(/append-only/);
  });
});

describe('revocations announced to every replica (evt.auth.revoked.v1)', () => {
  let nc: NatsConnection;
  const received: RevocationEvent[] = [];
  beforeAll(async () => {
    // a plain subscription sees what JetStream stores on the subject, as each replica's ordered consumer does
    nc = await connect({ servers: TEST_INFRA.natsUrl });
    nc.subscribe('evt.auth.revoked.v1', {
      callback: (_err, msg) => {
        received.push(RevocationEventSchema.parse(msg.json()));
      },
    });
    await nc.flush();
  });
  afterAll(async () => {
    await nc?.close();
  });
  /** The revocation announced for `match`; auth publishes before it answers, so it is there almost at once. */
  const announced = (match: (e: RevocationEvent) => boolean) => eventually(async () => received.find(match), (e) => e !== undefined, 2000);

  it('announces a logout and a replayed refresh token as the end of one session', async () => {
    const { principal, user, password } = await createUser('viewer');
    await rpc.request('rpc.auth.logout.v1', { principal });
    expect(await announced((e) => e.scope === 'session' && e.session_id === principal.session_id)).toMatchObject({
      scope: 'session',
      session_id: principal.session_id,
      user_id: user.id,
      reason: 'logout',
      id: expect.any(String),
      at: expect.any(Number),
    });

    const pair = await login(user.username, password);
    const sid = principalFrom(pair).session_id!;
    await rpc.request('rpc.auth.refresh.v1', { refresh_token: pair.refresh_token });
    await rpcError(rpc.request('rpc.auth.refresh.v1', { refresh_token: pair.refresh_token }));
    expect(await announced((e) => e.scope === 'session' && e.session_id === sid)).toMatchObject({ reason: 'reuse', user_id: user.id });
  });

  it('announces deactivation, a new password and a new role as the end of everything of the user', async () => {
    const admin = await adminPrincipal();
    for (const [patch, reason] of [
      [{ role: 'operator' as const }, 'role_changed'],
      [{ password: 'a-brand-new-password-1' }, 'password_changed'],
      [{ active: false }, 'user_deactivated'],
    ] as const) {
      const { user } = await createUser('viewer');
      await rpc.request('rpc.auth.user.update.v1', { principal: admin, id: user.id, patch });
      expect(await announced((e) => e.scope === 'user' && e.user_id === user.id)).toMatchObject({ scope: 'user', reason });
    }
  });

  it('announces a revoked API key once, and stores the announcements in the AUTH stream', async () => {
    const { principal, user } = await createUser('operator');
    const created = await rpc.request('rpc.auth.api-key.create.v1', { principal, key: { name: 'announced', permissions: ['read'] } });
    await rpc.request('rpc.auth.api-key.delete.v1', { principal, id: created.id });
    await rpc.request('rpc.auth.api-key.delete.v1', { principal, id: created.id }); // already revoked: nothing new
    expect(await announced((e) => e.scope === 'api_key' && e.api_key_id === created.id)).toMatchObject({ user_id: user.id, reason: 'api_key_revoked' });
    await new Promise((r) => setTimeout(r, 200));
    expect(received.filter((e) => e.scope === 'api_key' && e.api_key_id === created.id)).toHaveLength(1);

    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(STREAMS.AUTH.name);
    expect(info.state.messages).toBeGreaterThanOrEqual(received.length);
  });
});

describe('API keys bound to an agent', () => {
  it('stores the agent of an ingest-only key and resolves it into the principal', async () => {
    const { principal } = await createUser('operator');
    const created = await rpc.request('rpc.auth.api-key.create.v1', { principal, key: { name: 'agent-7 pusher', permissions: ['ingest:write'], agent_id: 'agent-7' } });
    expect(created).toMatchObject({ agent_id: 'agent-7', permissions: ['ingest:write'] });
    expect(await rpc.request('rpc.auth.api-key.verify.v1', { key: created.key })).toMatchObject({ kind: 'api_key', id: created.id, agent_id: 'agent-7', permissions: ['ingest:write'] });
    const listed = await rpc.request('rpc.auth.api-key.list.v1', { principal, page: {} });
    expect(listed.items.find((k) => k.id === created.id)).toMatchObject({ agent_id: 'agent-7' });

    const unbound = await rpc.request('rpc.auth.api-key.create.v1', { principal, key: { name: 'fleet pusher', permissions: ['ingest:write'] } });
    expect(unbound.agent_id).toBeNull();
    expect(await rpc.request('rpc.auth.api-key.verify.v1', { key: unbound.key })).not.toHaveProperty('agent_id');

    const stored = await eventually(() => auditRows(`action = 'api_key.create' AND resource_id = $1`, [created.id]), (r) => r.length === 1);
    expect(stored[0]?.after).toMatchObject({ agent_id: 'agent-7' });
  });

  it('binds only keys that hold exactly ingest:write (400 naming key.agent_id), and checks the agent id', async () => {
    const admin = await adminPrincipal();
    for (const permissions of [['read'], ['ingest:write', 'read'], ['admin']] as const) {
      const err = await rpcError(rpc.request('rpc.auth.api-key.create.v1', { principal: admin, key: { name: 'x', permissions: [...permissions], agent_id: 'agent-7' } }));
      expect(err.statusCode).toBe(400);
      expect(err.details?.[0]?.path).toBe('key.agent_id');
    }
    const bad = await rpcError(rpc.request('rpc.auth.api-key.create.v1', { principal: admin, key: { name: 'x', permissions: ['ingest:write'], agent_id: 'no spaces/allowed' } }));
    expect(bad.statusCode).toBe(400);
    expect(bad.details?.[0]?.path).toContain('agent_id');
  });
});
