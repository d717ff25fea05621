// Local infrastructure for `npm start` (profile "dev") and `npm test` (profile "test").
// Plain Node.js with no dependencies, so it runs on a fresh clone before `npm ci`.
//
// dev:  uses PostgreSQL, Redis and NATS where they already listen (127.0.0.1:5432/6379/4222),
//       starting the installed ones that are stopped; runs InfluxDB from .agentmon/dev.
// test: its own NATS (14222), Redis (16379) and InfluxDB (18086) under .agentmon/test, and
//       databases named agentmon_test_*, so tests pass while `npm start` runs.
import { influxdConfig } from './influx-config.mjs';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync, readdirSync, readlinkSync, rmSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

export const PROFILES = {
  dev: {
    dir: path.join(ROOT, '.agentmon', 'dev'),
    postgres: { host: '127.0.0.1', port: 5432, dbPrefix: 'agentmon_' },
    redis: { port: 6379, own: false, db: 0 },
    nats: { port: 4222, own: false },
    influx: { port: 8086, rpcPort: 8088 },
    ports: { gateway: 8000, ingest: 8001, auth: 8002, registry: 8003, alerting: 8004, notification: 8005, web: 3000 },
  },
  test: testProfile(Number(process.env.AGENTMON_TEST_PORT_OFFSET ?? 0)),
  // `node bench/ingest.mjs`: its own NATS, Redis, InfluxDB, databases and service ports, so a
  // benchmark never meets the tests or `npm start`
  bench: {
    dir: path.join(ROOT, '.agentmon', 'bench'),
    postgres: { host: '127.0.0.1', port: 5432, dbPrefix: 'agentmon_bench_' },
    redis: { port: 26379, own: true, db: 0 },
    // monitorPort: NATS's monitoring endpoint (/varz, /connz), which the benchmark reads for message counts
    nats: { port: 24222, own: true, monitorPort: 28222 },
    influx: { port: 28086, rpcPort: 28088 },
    ports: { gateway: 28000, ingest: 28001, auth: 28002, registry: 28003, alerting: 28004, notification: 28005, web: 23000 },
  },
};

/**
 * The test profile. AGENTMON_TEST_PORT_OFFSET (e.g. 100) shifts every port and renames the folder
 * and databases, so two test runs on one machine do not meet.
 */
function testProfile(o) {
  if (!Number.isInteger(o) || o < 0 || o > 900 || o % 10 !== 0) throw new Error('AGENTMON_TEST_PORT_OFFSET must be a multiple of 10 between 0 and 900');
  const tag = o ? String(o) : '';
  return {
    dir: path.join(ROOT, '.agentmon', `test${tag}`),
    postgres: { host: '127.0.0.1', port: 5432, dbPrefix: `agentmon_test${tag}_` },
    redis: { port: 16379 + o, own: true, db: 0 },
    nats: { port: 14222 + o, own: true },
    influx: { port: 18086 + o, rpcPort: 18088 + o },
    ports: { gateway: 18000 + o, ingest: 18001 + o, auth: 18002 + o, registry: 18003 + o, alerting: 18004 + o, notification: 18005 + o, web: 13000 + o },
  };
}

const log = (...a) => process.stdout.write(`[infra] ${a.join(' ')}\n`);

export function portOpen(port, host = '127.0.0.1', timeoutMs = 500) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export async function waitForPort(port, what, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await portOpen(port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not start listening on 127.0.0.1:${port} within ${timeoutMs / 1000}s`);
}

function which(bin, extra = []) {
  for (const p of [...extra, ...(process.env.PATH ?? '').split(':')]) {
    const full = path.join(p, bin);
    if (existsSync(full)) return full;
  }
  return null;
}

/** Starts a daemon detached from this process, logging to the profile's folder; records its pid. */
function daemon(profile, name, cmd, args) {
  const logs = path.join(profile.dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const out = openSync(path.join(logs, `${name}.log`), 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  writeFileSync(path.join(profile.dir, `${name}.pid`), String(child.pid));
  return child.pid;
}

async function ensurePostgres(profile) {
  const { port } = profile.postgres;
  if (await portOpen(port)) return 'running';
  const ctl = which('pg_ctlcluster');
  if (ctl && existsSync('/etc/postgresql')) {
    const version = execFileSync('ls', ['/etc/postgresql']).toString().trim().split('\n')[0];
    log(`PostgreSQL is stopped; starting cluster ${version}/main`);
    spawnSync(ctl, ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'inherit' });
    await waitForPort(port, 'PostgreSQL');
    return 'started';
  }
  throw new Error(`PostgreSQL is not listening on 127.0.0.1:${port} and is not installed here. Install it (Debian: apt-get install -y postgresql) or point the DATABASE_URL variables at a server.`);
}

async function ensureRedis(profile) {
  const { port, own } = profile.redis;
  if (await portOpen(port)) return 'running';
  const bin = which('redis-server', ['/usr/bin', '/usr/local/bin']);
  if (!bin) throw new Error(`Redis is not listening on 127.0.0.1:${port} and redis-server is not installed. Install it (Debian: apt-get install -y redis-server).`);
  const dir = own ? path.join(profile.dir, 'redis') : '/var/lib/redis';
  mkdirSync(dir, { recursive: true });
  log(`starting Redis on ${port}`);
  daemon(profile, 'redis', bin, ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir]);
  await waitForPort(port, 'Redis');
  return 'started';
}

async function ensureNats(profile) {
  const { port, own, monitorPort } = profile.nats;
  if (await portOpen(port)) return 'running';
  const bin = natsServerBinary();
  if (!bin) throw new Error(`NATS is not listening on 127.0.0.1:${port} and nats-server is not installed. Install it (Debian: apt-get install -y nats-server).`);
  const store = own ? path.join(profile.dir, 'nats') : '/var/lib/nats-server';
  mkdirSync(store, { recursive: true });
  log(`starting NATS with JetStream on ${port}`);
  // the monitoring port, where a profile has one, binds to the same address (-a) as the clients' port
  daemon(profile, 'nats', bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store, ...(monitorPort ? ['-m', String(monitorPort)] : [])]);
  await waitForPort(port, 'NATS');
  return 'started';
}

function influxConfig(profile) {
  return influxdConfig({ dir: path.join(profile.dir, 'influxdb'), port: profile.influx.port, rpcPort: profile.influx.rpcPort });
}

export function natsServerBinary() {
  return which('nats-server', ['/usr/sbin', '/usr/local/bin', '/usr/bin']);
}

export function influxdBinary() {
  return which('influxd', ['/usr/bin', '/usr/local/bin']);
}

async function ensureInflux(profile) {
  const { port } = profile.influx;
  if (await portOpen(port)) return 'running';
  let bin = influxdBinary();
  if (!bin) {
    if (process.getuid?.() === 0 && which('apt-get')) {
      log('InfluxDB is not installed; installing Debian package influxdb (apt-get)');
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const upd = spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
      const inst = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'influxdb'], { stdio: 'inherit', env });
      if (upd.status !== 0 || inst.status !== 0) throw new Error('apt-get could not install influxdb');
      bin = influxdBinary();
    }
    if (!bin) {
      throw new Error(`InfluxDB is not listening on 127.0.0.1:${port} and influxd is not installed. Install InfluxDB 1.x (Debian: apt-get install -y influxdb) or set INFLUX_URL to a server with the v1 API.`);
    }
  }
  // Debian's package starts its own influxd on 8086/8088 with /var/lib/influxdb; stop it so the
  // project's instance owns its ports and data folder.
  spawnSync('sh', ['-c', 'command -v service >/dev/null && service influxdb stop >/dev/null 2>&1; pkill -f "influxd -config /etc/influxdb" || true']);
  const conf = path.join(profile.dir, 'influxdb.conf');
  mkdirSync(path.join(profile.dir, 'influxdb'), { recursive: true });
  writeFileSync(conf, influxConfig(profile));
  log(`starting InfluxDB on ${port}`);
  daemon(profile, 'influxdb', bin, ['-config', conf]);
  await waitForPort(port, 'InfluxDB', 60_000);
  return 'started';
}

/**
 * Daemons a checkout started and then lost: an influxd, nats-server or redis-server whose working
 * directory was deleted (a clone removed while its test servers still ran). They still hold the
 * profile's ports, so the next run would take them for its own and fail in odd ways (InfluxDB: "open
 * …/meta.dbtmp: no such file or directory"). Stopped here; anything else on a port is left alone.
 */
async function stopOrphans() {
  const stale = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const exe = readlinkSync(`/proc/${d}/exe`);
      if (!/\/(influxd|nats-server|redis-server|redis-check-rdb)$/.test(exe)) continue; // Debian links redis-server to redis-check-rdb
      const cwd = readlinkSync(`/proc/${d}/cwd`);
      if (cwd.endsWith(' (deleted)')) stale.push({ pid: Number(d), what: path.basename(exe).replace('redis-check-rdb', 'redis-server'), cwd });
    } catch {
      /* gone, or not ours to read */
    }
  }
  for (const s of stale) {
    log(`stopping a leftover ${s.what} (pid ${s.pid}) of a deleted checkout (${s.cwd})`);
    try {
      process.kill(s.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  for (const s of stale) {
    for (let i = 0; i < 100 && existsSync(`/proc/${s.pid}`); i++) await new Promise((r) => setTimeout(r, 100));
  }
}

/** Makes sure every dependency of the profile is up. Returns what it started. */
export async function ensureInfra(name) {
  const profile = PROFILES[name];
  mkdirSync(profile.dir, { recursive: true });
  await stopOrphans();
  const started = [];
  for (const [what, fn] of [
    ['postgres', ensurePostgres],
    ['redis', ensureRedis],
    ['nats', ensureNats],
    ['influxdb', ensureInflux],
  ]) {
    const state = await fn(profile);
    if (state === 'started') started.push(what);
  }
  return started;
}

/** Stops the daemons this script started for the profile (by pid file). */
export function stopInfra(name, which = ['influxdb', 'nats', 'redis']) {
  const profile = PROFILES[name];
  for (const w of which) {
    const pidFile = path.join(profile.dir, `${w}.pid`);
    if (!existsSync(pidFile)) continue;
    const pid = Number(readFileSync(pidFile, 'utf8'));
    try {
      process.kill(pid, 'SIGTERM');
      log(`stopped ${w} (pid ${pid})`);
    } catch {
      /* already gone */
    }
    rmSync(pidFile, { force: true });
  }
}

/** The environment each service gets for a profile. */
export function serviceEnv(name, extra = {}) {
  const p = PROFILES[name];
  const pg = (svc) => `postgres://postgres@${p.postgres.host}:${p.postgres.port}/${p.postgres.dbPrefix}${svc}`;
  const common = {
    NATS_URL: `nats://127.0.0.1:${p.nats.port}`,
    REDIS_URL: `redis://127.0.0.1:${p.redis.port}/${p.redis.db}`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    HTTP_HOST: '127.0.0.1',
    ...extra,
  };
  return {
    gateway: { ...common, PORT: p.ports.gateway, CORS_ORIGINS: `http://localhost:${p.ports.web},http://127.0.0.1:${p.ports.web}` },
    ingest: { ...common, PORT: p.ports.ingest, INFLUX_URL: `http://127.0.0.1:${p.influx.port}`, INFLUX_DATABASE: 'agentmon' },
    auth: { ...common, PORT: p.ports.auth, DATABASE_URL: pg('auth') },
    registry: { ...common, PORT: p.ports.registry, DATABASE_URL: pg('registry') },
    alerting: { ...common, PORT: p.ports.alerting, DATABASE_URL: pg('alerting') },
    notification: { ...common, PORT: p.ports.notification, DATABASE_URL: pg('notification') },
    web: { PORT: p.ports.web, GATEWAY_URL: `http://127.0.0.1:${p.ports.gateway}`, NEXT_TELEMETRY_DISABLED: '1' },
  };
}

// `node scripts/lib/infra.mjs up|down dev|test`
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const [cmd = 'up', profile = 'dev'] = process.argv.slice(2);
  if (!PROFILES[profile]) {
    console.error(`unknown profile ${profile} (dev, test or bench)`);
    process.exit(2);
  }
  if (cmd === 'up') {
    ensureInfra(profile).then(
      (s) => log(`${profile} infrastructure ready${s.length ? ` (started ${s.join(', ')})` : ''}`),
      (e) => {
        console.error(`[infra] ${e.message}`);
        process.exit(1);
      },
    );
  } else if (cmd === 'down') stopInfra(profile);
  else {
    console.error('usage: node scripts/lib/infra.mjs up|down dev|test|bench');
    process.exit(2);
  }
}
