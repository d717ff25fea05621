// Steps shared by `npm start` and `npm test`: dependencies, secrets, build.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './infra.mjs';

export const say = (msg) => process.stdout.write(`\x1b[36m[agentmon]\x1b[0m ${msg}\n`);

export function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts, env: { ...process.env, ...quietEnv(), ...(opts.env ?? {}) } });
  if (res.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${res.status ?? res.signal})`);
  }
}

/** Nothing calls out at build or run time: Nx Cloud, Nx and Next.js telemetry are off. */
export function quietEnv() {
  return {
    NX_NO_CLOUD: 'true',
    NX_DAEMON: 'false',
    NX_TUI: 'false',
    NX_SKIP_NX_CACHE: process.env.NX_SKIP_NX_CACHE ?? '',
    NEXT_TELEMETRY_DISABLED: '1',
    SCARF_ANALYTICS: 'false',
    DO_NOT_TRACK: '1',
  };
}

/** Installs dependencies when node_modules is missing or older than package-lock.json. */
export function ensureDependencies() {
  const lock = path.join(ROOT, 'package-lock.json');
  const stamp = path.join(ROOT, 'node_modules', '.agentmon-lock-hash');
  const hash = createHash('sha256').update(readFileSync(lock)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return;
  say('installing dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
  writeFileSync(stamp, hash);
}

/**
 * Keys the services need (AES-256-GCM keys for auth and notification, the admin password),
 * made once per profile and kept in .agentmon/<profile>/secrets.json (git-ignored, mode 600).
 * Values from the environment win.
 */
export function ensureSecrets(profileDir, { adminPassword } = {}) {
  mkdirSync(profileDir, { recursive: true });
  const file = path.join(profileDir, 'secrets.json');
  const stored = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const secrets = {
    AUTH_ENCRYPTION_KEY: process.env.AUTH_ENCRYPTION_KEY ?? stored.AUTH_ENCRYPTION_KEY ?? randomBytes(32).toString('base64'),
    NOTIFICATION_ENCRYPTION_KEY:
      process.env.NOTIFICATION_ENCRYPTION_KEY ?? stored.NOTIFICATION_ENCRYPTION_KEY ?? randomBytes(32).toString('base64'),
    AGENTMON_ADMIN_PASSWORD:
      process.env.AGENTMON_ADMIN_PASSWORD ?? adminPassword ?? stored.AGENTMON_ADMIN_PASSWORD ?? randomBytes(12).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return { secrets, file };
}

export function buildAll() {
  say('building libraries, services and the dashboard (nx run-many -t build)');
  run('npx', ['nx', 'run-many', '-t', 'build', '--output-style=stream']);
}
