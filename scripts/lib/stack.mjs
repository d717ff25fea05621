// Starts every agentmon service and the dashboard as child processes, waits until each is
// ready, and stops them all again.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT, PROFILES, serviceEnv } from './infra.mjs';
import { quietEnv, say } from './setup.mjs';
import { nodeFlagsOf } from './node-flags.mjs';

export const SERVICES = ['auth', 'registry', 'ingest', 'alerting', 'notification', 'gateway'];

const COLORS = { auth: 33, registry: 32, ingest: 35, alerting: 31, notification: 34, gateway: 36, web: 37 };

/**
 * @param {'dev'|'test'} profile
 * @param {{ secrets: Record<string,string>, extraEnv?: Record<string, Record<string,string>>, logToFiles?: boolean, withWeb?: boolean, replicas?: Record<string, number> }} opts
 * `replicas`: more than one process of a service (as a Deployment's replicas): the first on the
 * profile's port, replica k (2, 3, …) named `<service>-k` on that port + 1000 × (k − 1).
 */
export async function startStack(profile, opts) {
  const envs = serviceEnv(profile);
  const p = PROFILES[profile];
  const logDir = path.join(p.dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const children = [];
  const start = (name, cmd, args, env, cwd = ROOT) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, ...quietEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const file = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
    const tag = `\x1b[${COLORS[name] ?? 37}m${name.padEnd(12)}\x1b[0m| `;
    for (const stream of [child.stdout, child.stderr]) {
      stream.pipe(file, { end: false });
      if (!opts.logToFiles) {
        let buf = '';
        stream.on('data', (d) => {
          buf += d;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (worthShowing(line)) process.stdout.write(tag + line + '\n');
          }
        });
      }
    }
    child.on('exit', (code, signal) => {
      if (!child.stopping) say(`${name} exited (${signal ?? code})${opts.logToFiles ? ` — see ${path.join(logDir, `${name}.log`)}` : ''}`);
    });
    children.push({ name, child });
    return child;
  };

  const secretsFor = {
    auth: { AUTH_ENCRYPTION_KEY: opts.secrets.AUTH_ENCRYPTION_KEY, AGENTMON_ADMIN_PASSWORD: opts.secrets.AGENTMON_ADMIN_PASSWORD },
    notification: { NOTIFICATION_ENCRYPTION_KEY: opts.secrets.NOTIFICATION_ENCRYPTION_KEY, DASHBOARD_URL: `http://localhost:${p.ports.web}` },
  };
  const extraReady = [];
  for (const svc of SERVICES) {
    const env = { ...envs[svc], ...(secretsFor[svc] ?? {}), ...(opts.extraEnv?.[svc] ?? {}) };
    const entry = [...nodeFlagsOf(svc), path.join(ROOT, 'services', svc, 'dist', 'main.js')];
    start(svc, process.execPath, entry, stringify(env));
    for (let k = 2; k <= (opts.replicas?.[svc] ?? 1); k++) {
      const port = replicaPort(p.ports[svc], k);
      const name = `${svc}-${k}`;
      start(name, process.execPath, entry, stringify({ ...env, PORT: port, ...(env.AGENTMON_CPU_PROF_NAME ? { AGENTMON_CPU_PROF_NAME: name } : {}) }));
      extraReady.push([name, `http://127.0.0.1:${port}/health/ready`]);
    }
  }
  if (opts.withWeb !== false) {
    start('web', process.execPath, [path.join(ROOT, 'node_modules', 'next', 'dist', 'bin', 'next'), 'start', '-p', String(p.ports.web), '-H', '127.0.0.1'], stringify({ ...envs.web, ...(opts.extraEnv?.web ?? {}) }), path.join(ROOT, 'web'));
  }

  const stop = async () => {
    for (const { child } of children) {
      child.stopping = true;
      if (child.exitCode === null) child.kill('SIGTERM');
    }
    await Promise.all(
      children.map(
        ({ child }) =>
          new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const t = setTimeout(() => {
              child.kill('SIGKILL');
              resolve();
            }, 10_000);
            child.on('exit', () => {
              clearTimeout(t);
              resolve();
            });
          }),
      ),
    );
  };

  try {
    await waitReady(profile, children, opts.withWeb !== false, extraReady);
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop, children };
}

/** The console shows warnings, errors and plain (non-JSON) lines; everything is in the log files. */
function worthShowing(line) {
  if (!line.startsWith('{')) return line.trim().length > 0;
  try {
    const level = JSON.parse(line).level;
    return level === 'warn' || level === 'error' || level === 'fatal';
  } catch {
    return true;
  }
}

function stringify(env) {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
}

/** The port of replica k (1 = the profile's own) of a service. */
export function replicaPort(port, k) {
  return port + 1000 * (k - 1);
}

async function waitReady(profile, children, withWeb, extra = [], timeoutMs = 120_000) {
  const p = PROFILES[profile];
  const targets = SERVICES.map((s) => [s, `http://127.0.0.1:${p.ports[s]}/health/ready`]).concat(extra);
  if (withWeb) targets.push(['web', `http://127.0.0.1:${p.ports.web}/login`]);
  const until = Date.now() + timeoutMs;
  const pending = new Map(targets);
  while (pending.size) {
    for (const { name, child } of children) {
      if (child.exitCode !== null && pending.has(name)) throw new Error(`${name} stopped while starting (exit ${child.exitCode}); see .agentmon/${profile}/logs/${name}.log`);
    }
    for (const [name, url] of [...pending]) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        if (res.ok) pending.delete(name);
      } catch {
        /* not yet */
      }
    }
    if (!pending.size) break;
    if (Date.now() > until) throw new Error(`not ready after ${timeoutMs / 1000}s: ${[...pending.keys()].join(', ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
