/**
 * Real processes for the durability tests: a dedicated InfluxDB (own config, data folder and ports,
 * so killing it touches nothing else) and the built ingest service as a child process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { influxdConfig } from '../../../../scripts/lib/influx-config.mjs';
import { nodeFlagsOf } from '../../../../scripts/lib/node-flags.mjs';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..', '..');
const OFFSET = Number(process.env.AGENTMON_TEST_PORT_OFFSET ?? 0);
/** where the test profile keeps its files (scripts/lib/infra.mjs) */
export const PROFILE_DIR = path.join(ROOT, '.agentmon', `test${OFFSET ? String(OFFSET) : ''}`);

async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await ok().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

/**
 * An influxd of its own: the test profile's configuration (scripts/lib/infra.mjs) with other ports
 * (HTTP 18087+offset, RPC 18089+offset), a fresh data folder, and continuous queries checked every
 * second. Kill it with any signal and start it again on the same data.
 */
export class DedicatedInflux {
  readonly port = 18087 + OFFSET;
  readonly rpcPort = 18089 + OFFSET;
  readonly url = `http://127.0.0.1:${this.port}`;
  private child: ChildProcess | undefined;
  private readonly dir: string;
  private readonly conf: string;

  constructor(name: string) {
    this.dir = path.join(PROFILE_DIR, name);
    this.conf = path.join(this.dir, 'influxdb.conf');
  }

  async start(): Promise<void> {
    if (!this.child) {
      rmSync(this.dir, { recursive: true, force: true });
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(this.conf, this.config());
    }
    const bin = ['/usr/bin/influxd', '/usr/local/bin/influxd'].find((p) => existsSync(p));
    if (!bin) throw new Error('influxd is not installed (node scripts/lib/infra.mjs up test installs it)');
    const log = createWriteStream(path.join(this.dir, 'influxd.log'), { flags: 'a' });
    const child = spawn(bin, ['-config', this.conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.child = child;
    await waitFor(`influxd on ${this.port}`, async () => (await fetch(`${this.url}/ping`)).status === 204, 60_000);
  }

  /** Ends the process with the signal and waits until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited(child);
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private config(): string {
    // continuous queries checked every second: a test need not wait for them
    return influxdConfig({ dir: this.dir, port: this.port, rpcPort: this.rpcPort, cacheMaxMemory: '256m', cqRunInterval: '1s' });
  }
}

/** Builds the ingest service when its dist is missing or older than its sources or the libraries'. */
export function ensureIngestBuilt(): string {
  const main = path.join(ROOT, 'services', 'ingest', 'dist', 'main.js');
  const newest = (dir: string): number => {
    let t = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) t = Math.max(t, newest(p));
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')) t = Math.max(t, statSync(p).mtimeMs);
    }
    return t;
  };
  const sources = Math.max(newest(path.join(ROOT, 'services', 'ingest', 'src')), ...['contracts', 'config', 'observability', 'messaging', 'http-kit'].map((l) => newest(path.join(ROOT, 'libs', l, 'src'))));
  if (!existsSync(main) || statSync(main).mtimeMs < sources) {
    const res = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'services/ingest/tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`building the ingest service failed:\n${res.stdout}${res.stderr}`);
  }
  return main;
}

/** The built ingest service as a child process; `stop(signal)` and `start()` again with the same environment. */
export class IngestProcess {
  private child: ChildProcess | undefined;
  private readonly log: string;

  constructor(
    private readonly main: string,
    private env: Record<string, string>,
    name = 'durability-ingest',
  ) {
    mkdirSync(path.join(PROFILE_DIR, 'logs'), { recursive: true });
    this.log = path.join(PROFILE_DIR, 'logs', `${name}.log`);
  }

  get url(): string {
    return `http://127.0.0.1:${this.env.PORT}`;
  }

  setEnv(extra: Record<string, string>): void {
    this.env = { ...this.env, ...extra };
  }

  async start(): Promise<void> {
    const log = createWriteStream(this.log, { flags: 'a' });
    const child = spawn(process.execPath, [...nodeFlagsOf('ingest'), this.main], { env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.child = child;
    await waitFor(`ingest on ${this.env.PORT} (log: ${this.log})`, async () => {
      if (child.exitCode !== null) throw new Error(`ingest exited with ${child.exitCode}; see ${this.log}`);
      return (await fetch(`${this.url}/health/ready`)).status === 200;
    }, 60_000);
  }

  /** Sends the signal and waits until the process is gone (SIGTERM: a graceful shutdown). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited(child);
    clearTimeout(timer);
  }
}
