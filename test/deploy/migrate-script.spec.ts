/**
 * helm/agentmon/files/migrate.mjs, the command of the migration hook Jobs, run here with Node.js
 * against small stand-in service entries (real processes, real HTTP on loopback).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CHART_DIR } from './support/paths.js';

const SCRIPT = path.join(CHART_DIR, 'files', 'migrate.mjs');
const dir = mkdtempSync(path.join(os.tmpdir(), 'agentmon-migrate-'));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Writes a stand-in service entry and returns its path. */
function entry(name: string, body: string): string {
  const file = path.join(dir, `${name}.mjs`);
  writeFileSync(file, body);
  return file;
}

/** A service that migrates (for `migrateMs`), then listens and answers /health/ready. */
const listeningService = (marker: string, migrateMs: number) => `
import http from 'node:http';
import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(marker)} + '.env', process.env.MIGRATE_ONLY ?? '');
const started = Date.now();
const server = http.createServer((req, res) => {
  const ready = Date.now() - started > ${migrateMs};
  res.writeHead(req.url === '/health/ready' && ready ? 200 : 503).end();
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => { writeFileSync(${JSON.stringify(marker)} + '.sigterm', 'yes'); server.close(() => process.exit(0)); });
`;

function run(entryFile: string | undefined, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const args = entryFile ? [SCRIPT, entryFile] : [SCRIPT];
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, out });
    });
  });
}

describe('migrate.mjs (migration hook Job)', () => {
  it('succeeds when the service migrates and exits by itself (MIGRATE_ONLY honoured)', async () => {
    const marker = path.join(dir, 'self-exit');
    const file = entry('self-exit', `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, process.env.MIGRATE_ONLY ?? ''); process.exit(0);`);
    const r = await run(file, { PORT: String(await freePort()) });
    expect(r.code).toBe(0);
    expect(readFileSync(marker, 'utf8')).toBe('true');
    expect(r.out).toContain('migrations done (the service exited by itself)');
  });

  it('fails when the service exits with an error before it is ready', async () => {
    const file = entry('crash', `process.stderr.write('migration 0003 failed\\n'); process.exit(3);`);
    const r = await run(file, { PORT: String(await freePort()) });
    expect(r.code).toBe(1);
    expect(r.out).toContain('migration 0003 failed');
    expect(r.out).toContain('the service exited before it was ready');
  });

  it('waits for readiness of a service that ignores MIGRATE_ONLY, then stops it with SIGTERM', async () => {
    const marker = path.join(dir, 'listening');
    const file = entry('listening', listeningService(marker, 700));
    const r = await run(file, { PORT: String(await freePort()), MIGRATE_POLL_MS: '100' });
    expect(r.code).toBe(0);
    expect(readFileSync(`${marker}.env`, 'utf8')).toBe('true');
    expect(existsSync(`${marker}.sigterm`)).toBe(true);
    expect(r.out).toContain('service ready: migrations done, stopping it');
  });

  it('fails when the service never becomes ready in time, and kills it', async () => {
    const marker = path.join(dir, 'stuck');
    const port = await freePort();
    const file = entry('stuck', listeningService(marker, 60_000));
    const r = await run(file, { PORT: String(port), MIGRATE_TIMEOUT_MS: '1200', MIGRATE_POLL_MS: '100' });
    expect(r.code).toBe(1);
    expect(r.out).toContain('timed out waiting for the service to become ready');
    // nothing listens on the port any more
    await new Promise((r2) => setTimeout(r2, 300));
    const stillUp = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    expect(stillUp).toBe(false);
  });

  it('refuses to run without an entry or a PORT', async () => {
    expect((await run(undefined, { PORT: '8000' })).code).toBe(64);
    expect((await run(entry('noop', 'process.exit(0)'), {})).code).toBe(64);
  });
});
