// What the benchmarks that run the whole stack share: building it, the services' extra settings, and
// API keys minted the way a user does (admin login on the gateway, then POST /api/v2/api-keys).
import { spawnSync } from 'node:child_process';
import { ROOT } from '../../scripts/lib/infra.mjs';
import { quietEnv } from '../../scripts/lib/setup.mjs';

/** Builds the libraries and the services (not the dashboard): the benchmarks run them from dist. */
export function buildServices() {
  const r = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '--exclude=web', '--output-style=stream'], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...quietEnv() } });
  if (r.status !== 0) throw new Error('the build failed');
}

/**
 * The services' extra settings, by service: ingest's per-address limit lifted (every simulated agent
 * connects from 127.0.0.1, where a real fleet comes from as many addresses; the per-key limit stays),
 * then each `--env service:KEY=VALUE` (ingest:INGEST_MAX_PER_IP=N puts the limit back).
 */
export function serviceSettings(envArgs) {
  const settings = { ingest: { INGEST_MAX_PER_IP: '0' } };
  for (const e of envArgs) {
    const m = /^([a-z]+):([A-Z0-9_]+)=(.*)$/.exec(e);
    if (!m) throw new Error(`--env must look like ingest:KEY=VALUE, not ${e}`);
    (settings[m[1]] ??= {})[m[2]] = m[3];
  }
  return settings;
}

async function call(method, url, { token, body } = {}) {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** `n` ingest:write keys, through the gateway at `gateway` (its base URL). */
export async function mintKeys(gateway, adminPassword, n) {
  const login = await call('POST', `${gateway}/api/v2/auth/login`, { body: { username: 'admin', password: adminPassword } });
  if (login.status !== 200) throw new Error(`admin login failed: ${login.status} ${JSON.stringify(login.body)}`);
  const keys = [];
  for (let i = 0; i < n; i++) {
    const created = await call('POST', `${gateway}/api/v2/api-keys`, {
      token: login.body.access_token,
      body: { name: `bench-${Date.now()}-${i}`, permissions: ['ingest:write'] },
    });
    if (created.status !== 201) throw new Error(`creating an API key failed: ${created.status} ${JSON.stringify(created.body)}`);
    keys.push(created.body.key);
  }
  return keys;
}
