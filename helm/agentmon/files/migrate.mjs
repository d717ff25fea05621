// Runs one service's migrations for the Helm hook Job, then exits: `node migrate.mjs <entry.js>`.
//
// The entry runs with MIGRATE_ONLY=true. A service that honours it migrates and exits 0, and so does
// this script. A service that does not (yet) starts as usual: it migrates before it listens, so once
// GET /health/ready on PORT answers 200 the migrations are done, and the service is stopped with
// SIGTERM. Any failure — the service exiting non-zero, or no readiness within MIGRATE_TIMEOUT_MS —
// fails the Job, and with it the Helm upgrade, before a new pod rolls out.
//
// Plain Node.js without dependencies; it logs JSON lines like the services do.
import { spawn } from 'node:child_process';
import http from 'node:http';

const entry = process.argv[2];
const port = Number(process.env.PORT);
const timeoutMs = Number(process.env.MIGRATE_TIMEOUT_MS ?? 600_000);
const pollMs = Number(process.env.MIGRATE_POLL_MS ?? 1_000);
const stopGraceMs = Number(process.env.MIGRATE_STOP_GRACE_MS ?? 30_000);

function log(level, msg, extra = {}) {
  process.stdout.write(JSON.stringify({ level, time: new Date().toISOString(), service: 'migrate', entry, msg, ...extra }) + '\n');
}

if (!entry) {
  log('fatal', 'usage: node migrate.mjs <service entry, e.g. services/auth/dist/main.js>');
  process.exit(64);
}
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  log('fatal', 'PORT must be the port the service listens on');
  process.exit(64);
}

function ready() {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health/ready', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

const child = spawn(process.execPath, [entry], {
  env: { ...process.env, MIGRATE_ONLY: 'true' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
let exited = false;
let stopping = false;

const finish = (code, msg, extra) => {
  log(code === 0 ? 'info' : 'error', msg, extra);
  process.exit(code);
};

child.on('error', (err) => finish(1, 'could not start the service', { error: err.message }));
child.on('exit', (code, signal) => {
  exited = true;
  if (stopping) finish(0, 'migrations done; service stopped', { code, signal });
  else if (code === 0) finish(0, 'migrations done (the service exited by itself)');
  else finish(1, 'the service exited before it was ready: migrations failed', { code, signal });
});

const deadline = Date.now() + timeoutMs;
log('info', 'running migrations', { port, timeout_ms: timeoutMs });
while (!exited && !stopping) {
  if (await ready()) {
    stopping = true;
    log('info', 'service ready: migrations done, stopping it');
    child.kill('SIGTERM');
    setTimeout(() => {
      if (!exited) child.kill('SIGKILL');
    }, stopGraceMs).unref();
    break;
  }
  if (Date.now() > deadline) {
    child.kill('SIGKILL');
    // the exit handler must not report this as a clean stop
    finish(1, 'timed out waiting for the service to become ready', { timeout_ms: timeoutMs });
  }
  await new Promise((r) => setTimeout(r, pollMs));
}
