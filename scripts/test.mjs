#!/usr/bin/env node
// `npm test`: all the set-up, then every test tier against real infrastructure.
//   1. dependencies, the test infrastructure (own NATS/Redis/InfluxDB, agentmon_test_* databases)
//   2. lint (module boundaries) and type-checked build of every project
//   3. unit and deployment-file tests
//   4. integration tests (each service in-process against the real servers)
//   5. the whole stack on the test ports: end-to-end tests through the public ports and the
//      browser test in headless Chromium
// Extra arguments are passed to every Jest run (e.g. `npm test -- -t login`).
import { existsSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ensureInfra, PROFILES, ROOT, serviceEnv } from './lib/infra.mjs';
import { scanLogsForSecrets } from './lib/secrets-in-logs.mjs';
import { ensureDependencies, ensureSecrets, buildAll, run, say, quietEnv } from './lib/setup.mjs';

const profile = PROFILES.test;
const extra = process.argv.slice(2);
const results = [];
let stack;

/** A check that is not a Jest run, counted as one test. */
function check(name, fn) {
  say(`check: ${name}`);
  let ok = false;
  try {
    ok = fn();
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
  }
  results.push({ name, ok, passed: ok ? 1 : 0, failed: ok ? 0 : 1, total: 1 });
}

function jest(name, projects, { inBand = false, env = {} } = {}) {
  const out = path.join(profile.dir, `jest-${name}.json`);
  rmSync(out, { force: true });
  say(`tests: ${name}`);
  const args = [
    '--experimental-vm-modules',
    path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
    '--selectProjects',
    ...projects,
    '--json',
    `--outputFile=${out}`,
    ...(inBand ? ['--runInBand'] : ['--maxWorkers=2']),
    // A connection some suite leaves open must not hang the whole run after every test finished;
    // --detectOpenHandles on a single suite finds the culprit.
    '--forceExit',
    ...extra,
  ];
  const res = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...quietEnv(), NODE_NO_WARNINGS: '1', ...env } });
  const summary = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : null;
  results.push({ name, ok: res.status === 0, passed: summary?.numPassedTests ?? 0, failed: summary?.numFailedTests ?? 0, total: summary?.numTotalTests ?? 0 });
  if (summary && summary.numTotalTests === 0) results.at(-1).ok = false;
}

async function resetTestState() {
  // A deterministic start for the end-to-end stack: empty databases, streams and time series.
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  for (const svc of ['auth', 'registry', 'alerting', 'notification']) {
    await client.query(`DROP DATABASE IF EXISTS ${profile.postgres.dbPrefix}${svc} WITH (FORCE)`);
  }
  await client.end();
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: `nats://127.0.0.1:${profile.nats.port}` });
  const jsm = await jetstreamManager(nc);
  for await (const s of jsm.streams.list()) await jsm.streams.delete(s.config.name);
  await nc.close();
  await fetch(`http://127.0.0.1:${profile.influx.port}/query`, { method: 'POST', body: new URLSearchParams({ q: 'DROP DATABASE agentmon' }) });
  const { default: Redis } = await import('ioredis');
  const redis = new Redis(`redis://127.0.0.1:${profile.redis.port}/0`);
  await redis.flushdb();
  redis.disconnect();
}

function ensureChromium() {
  if (existsSync('/usr/bin/chromium')) return;
  if (process.getuid?.() === 0) {
    say("installing Debian's chromium for the browser test (apt-get)");
    run('apt-get', ['update']);
    run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
  } else {
    throw new Error('the browser test needs /usr/bin/chromium (Debian: apt-get install -y chromium)');
  }
}

async function main() {
  ensureDependencies();
  mkdirSync(profile.dir, { recursive: true });
  say('test infrastructure: own NATS, Redis and InfluxDB on test ports; agentmon_test_* databases');
  await ensureInfra('test');
  ensureChromium();
  say('lint: module boundaries and code rules');
  run('npx', ['eslint', '.', '--max-warnings=0']);
  buildAll();
  say('type-checking every project with its tests (nx run-many -t typecheck, test tiers)');
  run('npx', ['nx', 'run-many', '-t', 'typecheck', '--output-style=stream']);
  for (const tier of ['e2e', 'browser', 'deploy']) run('npx', ['tsc', '-p', `test/${tier}/tsconfig.json`]);
  check('docs/security.md shows the access table of test/e2e/access-matrix.ts', () => {
    const res = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'security-doc.mjs'), '--check'], { cwd: ROOT, stdio: 'inherit' });
    return res.status === 0;
  });

  jest('unit and deployment files', ['unit', 'deploy']);
  jest('integration (real PostgreSQL, Redis, NATS, InfluxDB)', ['integration'], { inBand: true });

  await resetTestState();
  const { secrets, file: secretsJson } = ensureSecrets(profile.dir, { adminPassword: 'e2e-admin-password-0001' });
  // the e2e and browser tests write down every secret they use; the logs are searched for them afterwards
  const secretsFile = path.join(profile.dir, 'e2e-secrets.jsonl');
  rmSync(secretsFile, { force: true });
  const { startStack } = await import('./lib/stack.mjs');
  say('starting the whole stack on the test ports');
  stack = await startStack('test', {
    secrets,
    logToFiles: true,
    extraEnv: {
      registry: { HEARTBEAT_TIMEOUT_MS: '4000', OFFLINE_SWEEP_INTERVAL_MS: '500' },
      alerting: { EVALUATION_TICK_MS: '1000' },
      ingest: { LOG_LEVEL: 'warn' },
    },
  });
  const p = profile.ports;
  const env = {
    AGENTMON_GATEWAY_URL: `http://127.0.0.1:${p.gateway}`,
    AGENTMON_INGEST_URL: `http://127.0.0.1:${p.ingest}`,
    AGENTMON_WEB_URL: `http://127.0.0.1:${p.web}`,
    AGENTMON_ADMIN_PASSWORD: secrets.AGENTMON_ADMIN_PASSWORD,
    AGENTMON_HEARTBEAT_TIMEOUT_MS: '4000',
    AGENTMON_LOG_DIR: path.join(profile.dir, 'logs'),
    AGENTMON_TEST_PORT_OFFSET: process.env.AGENTMON_TEST_PORT_OFFSET ?? '0',
    AGENTMON_E2E_SECRETS_FILE: secretsFile,
    AGENTMON_PROFILE_DIR: profile.dir,
    AGENTMON_AUTH_DATABASE_URL: serviceEnv('test').auth.DATABASE_URL,
    // a second gateway replica started by test/e2e/attacker.e2e-spec.ts runs with the stack's gateway settings
    AGENTMON_E2E_GATEWAY_ENV: JSON.stringify(serviceEnv('test').gateway),
  };
  jest('end-to-end and browser (public ports, headless Chromium)', ['e2e', 'browser'], { inBand: true, env });
  await stack.stop();
  stack = undefined;
  check('no secret used by the tests appears in a log file', () => {
    const scan = scanLogsForSecrets({ logDir: path.join(profile.dir, 'logs'), secretsFile, secretsJson });
    say(`searched ${scan.files} log files for ${scan.checked} secrets`);
    for (const problem of scan.problems) process.stderr.write(`\x1b[31m[agentmon] secret in logs: ${problem}\x1b[0m\n`);
    return scan.ok;
  });
}

try {
  await main();
} catch (err) {
  process.stderr.write(`\n\x1b[31m[agentmon] ${err.message}\x1b[0m\n`);
  results.push({ name: 'set-up', ok: false, passed: 0, failed: 1, total: 1 });
  await stack?.stop();
}
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
for (const r of results) say(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.passed}/${r.total} passed`);
process.stdout.write(`agentmon: ${passed} passed, ${failed} failed\n`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
