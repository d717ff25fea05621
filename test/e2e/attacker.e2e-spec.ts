// Credentials tried as an attacker would, against the whole stack through the public ports:
// forged, altered, expired, `alg: none`, replayed and revoked credentials, a viewer trying to
// escalate, and revocation reaching a second gateway replica at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importPKCS8 } from 'jose';
import { TEST_INFRA } from '../support/test-env.js';
import { recordSecret } from '../support/secret-record.js';
import { E2E, REPO_ROOT as ROOT, api, call, eventually, login } from './harness.js';

const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
/** How long a revocation may take to reach a replica (event delivery; no cache expires this fast). */
const DELIVERY_MS = 1000;
const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

let admin: string;
let seq = 0;
async function newUser(role: 'viewer' | 'operator' | 'admin') {
  const username = `attack-${role}-${RUN}-${++seq}`;
  const password = `attack-${role}-password-${RUN}-${seq}`;
  const r = await call('POST', api('/users'), { token: admin, body: { username, email: `${username}@example.test`, password, role } });
  if (r.status !== 201) throw new Error(`creating ${username}: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.id as string, username, password, ...(await login(username, password)) };
}
async function mintKey(token: string, permissions: string[]) {
  const r = await call('POST', api('/api-keys'), { token, body: { name: `attack-${RUN}-${++seq}`, permissions } });
  if (r.status !== 201) throw new Error(`minting ${permissions.join(',')}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { id: string; key: string };
}
const profileStatus = async (token: string, base = E2E.gateway) => (await call('GET', `${base}/api/v2/users/profile`, { token })).status;

/** Polls until the answer is `expected`; fails after DELIVERY_MS. */
async function within(what: string, probe: () => Promise<number>, expected = 401): Promise<number> {
  const started = Date.now();
  for (;;) {
    const status = await probe();
    if (status === expected) return Date.now() - started;
    if (Date.now() - started > DELIVERY_MS) throw new Error(`${what}: still ${status} ${DELIVERY_MS} ms after the revocation`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  admin = (await login('admin', E2E.adminPassword)).access_token;
});

describe('tokens that are not what auth issued', () => {
  it('refuses a forged signature: another key under the real kid, and garbage', async () => {
    const viewer = await newUser('viewer');
    expect(await profileStatus(viewer.access_token)).toBe(200);
    const { kid } = decodeProtectedHeader(viewer.access_token);
    const attacker = await generateKeyPair('RS256');
    const forged = await new SignJWT({ ...decodeJwt(viewer.access_token), role: 'admin' }).setProtectedHeader({ alg: 'RS256', kid: kid!, typ: 'JWT' }).sign(attacker.privateKey);
    expect(await profileStatus(forged)).toBe(401);
    const [h, p] = viewer.access_token.split('.');
    expect(await profileStatus(`${h}.${p}.${b64url('not a signature at all')}`)).toBe(401);
    // and the attacker's own key under the attacker's own kid is unknown to the JWKS
    const ownKid = await new SignJWT({ ...decodeJwt(viewer.access_token) }).setProtectedHeader({ alg: 'RS256', kid: `attacker-${RUN}`, typ: 'JWT' }).sign(attacker.privateKey);
    expect(await profileStatus(ownKid)).toBe(401);
    expect((await exportJWK(attacker.publicKey)).kty).toBe('RSA');
  });

  it('refuses a payload altered to role admin and re-encoded without re-signing', async () => {
    const viewer = await newUser('viewer');
    const [h, p, s] = viewer.access_token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8'));
    expect(claims.role).toBe('viewer');
    const altered = `${h}.${b64url({ ...claims, role: 'admin' })}.${s}`;
    for (const [method, url] of [
      ['GET', api('/users')],
      ['GET', api('/audit-logs')],
      ['GET', api('/users/profile')],
    ] as const) {
      expect((await call(method, url, { token: altered })).status).toBe(401);
    }
    expect((await call('GET', api('/users'), { token: viewer.access_token })).status).toBe(403);
  });

  it('refuses alg none and alg HS256 keyed with the public key (algorithm confusion)', async () => {
    const viewer = await newUser('viewer');
    const header = decodeProtectedHeader(viewer.access_token);
    const claims = { ...decodeJwt(viewer.access_token), role: 'admin' };
    for (const alg of ['none', 'None', 'NONE']) {
      const none = `${b64url({ alg, typ: 'JWT', kid: header.kid })}.${b64url(claims)}.`;
      expect(await profileStatus(none)).toBe(401);
      expect((await call('GET', api('/users'), { token: none })).status).toBe(401);
    }
    const jwks = (await call('GET', api('/auth/jwks'))).body as { keys: Array<{ kid: string; n: string }> };
    const publicKey = jwks.keys.find((k) => k.kid === header.kid)!;
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: header.kid!, typ: 'JWT' }).sign(new TextEncoder().encode(JSON.stringify(publicKey)));
    expect(await profileStatus(hs)).toBe(401);
  });

  it('refuses an expired token signed with auth’s real key (and accepts the same forgery unexpired)', async () => {
    const key = await realSigningKey();
    const viewer = await newUser('viewer');
    const claims = decodeJwt(viewer.access_token);
    const now = Math.floor(Date.now() / 1000);
    const sign = (iat: number, exp: number) =>
      new SignJWT({ ...claims, iat, exp }).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
    // control: a token made this way with a future expiry is accepted, so the refusal below is the expiry
    expect(await profileStatus(await sign(now - 10, now + 300))).toBe(200);
    const expired = await call('GET', api('/users/profile'), { token: await sign(now - 1200, now - 300) });
    expect(expired.status).toBe(401);
    expect(expired.body.message).toBe('access token has expired');
  });
});

describe('refresh tokens and keys that were used up or revoked', () => {
  it('a replayed refresh token ends the whole session, the newest access token included, at once', async () => {
    const user = await newUser('operator');
    const rotated = await call('POST', api('/auth/refresh'), { body: { refresh_token: user.refresh_token } });
    expect(rotated.status).toBe(200);
    expect(await profileStatus(rotated.body.access_token)).toBe(200);
    const replay = await call('POST', api('/auth/refresh'), { body: { refresh_token: user.refresh_token } });
    expect(replay.status).toBe(401);
    expect((await call('POST', api('/auth/refresh'), { body: { refresh_token: rotated.body.refresh_token } })).status).toBe(401);
    expect(await within('newest access token after the replay', () => profileStatus(rotated.body.access_token))).toBeLessThan(DELIVERY_MS);
    expect(await profileStatus(user.access_token)).toBe(401);
  });

  it('a revoked key is refused at once by the gateway and by the ingest port', async () => {
    const reader = await mintKey(admin, ['read']);
    const pusher = await mintKey(admin, ['ingest:write']);
    const push = () =>
      call('POST', `${E2E.ingest}/api/v2/ingest`, {
        token: pusher.key,
        body: { agent: { id: `attack-agent-${RUN}` }, points: [{ measurement: 'agent_metrics', fields: { cpu_usage: 1 } }] },
      }).then((r) => r.status);
    expect((await call('GET', api('/agents'), { token: reader.key })).status).toBe(200);
    expect(await push()).toBe(202);
    expect(await push()).toBe(202); // answered from the ingest cache
    expect((await call('DELETE', api(`/api-keys/${reader.id}`), { token: admin })).status).toBe(204);
    expect((await call('DELETE', api(`/api-keys/${pusher.id}`), { token: admin })).status).toBe(204);
    expect(await within('revoked read key at the gateway', async () => (await call('GET', api('/agents'), { token: reader.key })).status)).toBeLessThan(DELIVERY_MS);
    expect(await within('revoked ingest key at the ingest port', push)).toBeLessThan(DELIVERY_MS);
  });

  it('an ingest key pushes but reads nothing at the gateway; a read key cannot push', async () => {
    const pusher = await mintKey(admin, ['ingest:write']);
    const reader = await mintKey(admin, ['read']);
    expect((await call('GET', api('/agents'), { token: pusher.key })).status).toBe(403);
    expect((await call('GET', api('/users/profile'), { token: pusher.key })).status).toBe(403);
    const body = { agent: { id: `attack-agent-${RUN}` }, points: [{ measurement: 'agent_metrics', fields: { cpu_usage: 1 } }] };
    expect((await call('POST', `${E2E.ingest}/api/v2/ingest`, { token: reader.key, body })).status).toBe(403);
    expect((await call('POST', `${E2E.ingest}/api/v2/ingest`, { token: pusher.key, body })).status).toBe(202);
  });

  it('an agent-bound key pushes and reads the config for its agent only', async () => {
    const agentId = `attack-bound-${RUN}`;
    const created = await call('POST', api('/api-keys'), { token: admin, body: { name: `bound-${RUN}`, permissions: ['ingest:write'], agent_id: agentId } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ agent_id: agentId, permissions: ['ingest:write'] });
    const key = created.body.key as string;
    const push = (id: string) => call('POST', `${E2E.ingest}/api/v2/ingest`, { token: key, body: { agent: { id }, points: [{ measurement: 'agent_metrics', fields: { cpu_usage: 2 } }] } });
    expect((await push(agentId)).status).toBe(202);
    const other = await push(`someone-else-${RUN}`);
    expect(other.status).toBe(403);
    expect(other.body.details).toEqual([{ path: 'agent.id', reason: expect.stringContaining(agentId) }]);
    const lines = await call('POST', `${E2E.ingest}/api/v2/write?precision=ms`, {
      token: key,
      headers: { 'content-type': 'text/plain' },
      raw: `agent_metrics,agent_id=${agentId} cpu_usage=3 ${Date.now()}\nagent_metrics,agent_id=intruder-${RUN} cpu_usage=4 ${Date.now()}`,
    });
    expect(lines.status).toBe(403);
    expect(lines.body.details.map((d: { path: string }) => d.path)).toEqual(['lines[1].tags.agent_id']);
    // the registry registers the agent from the telemetry stream, after the 202
    await eventually('the agent registered', () => call('GET', api(`/agents/${agentId}`), { token: admin }), (r) => r.status === 200);
    expect((await call('PUT', api(`/agents/${agentId}/config`), { token: admin, body: { config: { sample_every: '5s' } } })).status).toBe(200);
    expect((await call('GET', `${E2E.ingest}/api/v2/agents/${agentId}/config`, { token: key })).status).toBe(200);
    expect((await call('GET', `${E2E.ingest}/api/v2/agents/someone-else-${RUN}/config`, { token: key })).status).toBe(403);
    // a key that may also read cannot be bound (the gateway does not restrict reads per agent)
    expect((await call('POST', api('/api-keys'), { token: admin, body: { name: 'x', permissions: ['read'], agent_id: agentId } })).status).toBe(400);
  });
});

describe('a viewer trying to escalate', () => {
  it('cannot change their own role, mint stronger keys, create users or read the audit log', async () => {
    const viewer = await newUser('viewer');
    const own = await call('PATCH', api(`/users/${viewer.id}`), { token: viewer.access_token, body: { role: 'admin' } });
    expect(own.status).toBe(403);
    for (const permissions of [['admin'], ['write'], ['ingest:write'], ['read', 'admin']]) {
      expect((await call('POST', api('/api-keys'), { token: viewer.access_token, body: { name: `escalate-${RUN}`, permissions } })).status).toBe(403);
    }
    expect((await call('POST', api('/users'), { token: viewer.access_token, body: { username: `sneaky-${RUN}`, email: 'x@example.test', password: 'sneaky-password-123', role: 'admin' } })).status).toBe(403);
    expect((await call('GET', api('/audit-logs'), { token: viewer.access_token })).status).toBe(403);
    // with a key of their own: the same walls
    const key = await mintKey(viewer.access_token, ['read']);
    expect((await call('POST', api('/api-keys'), { token: key.key, body: { name: `escalate-key-${RUN}`, permissions: ['admin'] } })).status).toBe(403);
    expect((await call('PATCH', api(`/users/${viewer.id}`), { token: key.key, body: { role: 'admin' } })).status).toBe(403);
    const profile = await call('GET', api('/users/profile'), { token: viewer.access_token });
    expect(profile.body).toMatchObject({ id: viewer.id, role: 'viewer' });
    // and the refusals are in the audit log
    const audit = await call('GET', api(`/audit-logs?actor=${viewer.username}&action=api_key.create`), { token: admin });
    expect(audit.status).toBe(200);
  });
});

describe('revocation at a second gateway replica', () => {
  let replica: ChildProcess | undefined;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const stackEnv = JSON.parse(process.env.AGENTMON_E2E_GATEWAY_ENV ?? '{}') as Record<string, string>;
    const main = path.join(ROOT, 'services', 'gateway', 'dist', 'main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: build first (npm test does)`);
    replica = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        NATS_URL: TEST_INFRA.natsUrl,
        REDIS_URL: TEST_INFRA.redisUrl,
        ...stackEnv,
        PORT: String(port),
        HTTP_HOST: '127.0.0.1',
        // a replica that would trust cached answers for ten minutes: only the announcements can stop them
        SESSION_CACHE_MS: '600000',
        API_KEY_CACHE_MS: '600000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (E2E.logDir) {
      const log = createWriteStream(path.join(E2E.logDir, 'gateway-replica.log'), { flags: 'a' });
      replica.stdout!.pipe(log);
      replica.stderr!.pipe(log);
    } else {
      replica.stdout!.resume();
      replica.stderr!.resume();
    }
    const until = Date.now() + 30_000;
    for (;;) {
      if (replica.exitCode !== null) throw new Error(`the second gateway exited (${replica.exitCode})`);
      const ok = await fetch(`${base}/health/ready`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > until) throw new Error('the second gateway did not become ready');
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 45_000);

  afterAll(async () => {
    if (!replica || replica.exitCode !== null) return;
    const exited = new Promise((r) => replica!.once('exit', r));
    replica.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    if (replica.exitCode === null) replica.kill('SIGKILL');
  });

  it('a logout through the first gateway ends the session on the second at once', async () => {
    const user = await newUser('viewer');
    expect(await profileStatus(user.access_token, base)).toBe(200);
    expect(await profileStatus(user.access_token, base)).toBe(200); // now cached on the replica for ten minutes
    expect((await call('POST', api('/auth/logout'), { token: user.access_token })).status).toBe(204);
    expect(await within('logged-out token at the replica', () => profileStatus(user.access_token, base))).toBeLessThan(DELIVERY_MS);
  });

  it('a key revoked through the first gateway is refused by the second at once', async () => {
    const key = await mintKey(admin, ['read']);
    expect(await profileStatus(key.key, base)).toBe(200);
    expect((await call('DELETE', api(`/api-keys/${key.id}`), { token: admin })).status).toBe(204);
    expect(await within('revoked key at the replica', () => profileStatus(key.key, base))).toBeLessThan(DELIVERY_MS);
  });

  it('deactivating a user ends their sessions and keys on the second gateway at once', async () => {
    const user = await newUser('operator');
    const key = await mintKey(user.access_token, ['read']);
    expect(await profileStatus(user.access_token, base)).toBe(200);
    expect(await profileStatus(key.key, base)).toBe(200);
    expect((await call('PATCH', api(`/users/${user.id}`), { token: admin, body: { active: false } })).status).toBe(200);
    expect(await within('deactivated user’s token at the replica', () => profileStatus(user.access_token, base))).toBeLessThan(DELIVERY_MS);
    expect(await within('deactivated user’s key at the replica', () => profileStatus(key.key, base))).toBeLessThan(DELIVERY_MS);
  });
});

/** The JWT signing key auth uses now, read as an attacker with the database and the encryption key would. */
async function realSigningKey() {
  const profileDir = process.env.AGENTMON_PROFILE_DIR ?? (E2E.logDir ? path.dirname(E2E.logDir) : undefined);
  if (!profileDir) throw new Error('AGENTMON_PROFILE_DIR (or AGENTMON_LOG_DIR) must name the test profile folder (npm test sets it)');
  const secrets = JSON.parse(readFileSync(path.join(profileDir, 'secrets.json'), 'utf8')) as { AUTH_ENCRYPTION_KEY: string };
  const db = new Client({ connectionString: process.env.AGENTMON_AUTH_DATABASE_URL ?? TEST_INFRA.postgresUrl('auth') });
  await db.connect();
  try {
    const { rows } = await db.query(`SELECT kid, private_key_enc FROM signing_keys WHERE status = 'active'`);
    const { kid, private_key_enc: sealed } = rows[0] as { kid: string; private_key_enc: string };
    // auth's sealed format: v1.<iv>.<tag>.<ciphertext>, AES-256-GCM with the kid as additional data
    const [, iv, tag, ct] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(secrets.AUTH_ENCRYPTION_KEY, 'base64'), iv!);
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(tag!);
    const pem = Buffer.concat([decipher.update(ct!), decipher.final()]).toString('utf8');
    for (const line of pem.split('\n').filter((l) => l.length >= 40)) recordSecret('JWT signing key (PEM line)', line);
    return { kid, privateKey: await importPKCS8(pem, 'RS256') };
  } finally {
    await db.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
