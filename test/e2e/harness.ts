import { existsSync } from 'node:fs';
import path from 'node:path';
import { recordAuthorization, recordSecret, recordSecretsIn } from '../support/secret-record.js';

/** The repository (where nx.json is), found from the working directory Jest runs in. */
export const REPO_ROOT = (() => {
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'nx.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error('run the end-to-end tests from inside the repository');
  }
})();

/** Where the end-to-end stack listens (set by scripts/test.mjs) and small HTTP helpers. */
export const E2E = {
  gateway: process.env.AGENTMON_GATEWAY_URL ?? 'http://127.0.0.1:18000',
  ingest: process.env.AGENTMON_INGEST_URL ?? 'http://127.0.0.1:18001',
  web: process.env.AGENTMON_WEB_URL ?? 'http://127.0.0.1:13000',
  adminPassword: process.env.AGENTMON_ADMIN_PASSWORD ?? 'e2e-admin-password-0001',
  heartbeatTimeoutMs: Number(process.env.AGENTMON_HEARTBEAT_TIMEOUT_MS ?? 4000),
  /** the log folder of the stack (the secrets-in-logs check of scripts/test.mjs scans it) */
  logDir: process.env.AGENTMON_LOG_DIR,
};
recordSecret('admin password', E2E.adminPassword);

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function call<T = any>(
  method: string,
  url: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  // every secret a test sends or receives is written down for the secrets-in-logs check
  recordAuthorization(headers.authorization);
  recordSecret('x-api-key header', headers['x-api-key']);
  recordSecretsIn(`${method} request`, opts.body);
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  recordSecretsIn(`${method} answer`, parsed);
  return { status: res.status, body: parsed as T, headers: res.headers };
}

export const api = (path: string) => `${E2E.gateway}/api/v2${path}`;

export async function login(username: string, password: string): Promise<{ access_token: string; refresh_token: string }> {
  const r = await call('POST', api('/auth/login'), { body: { username, password } });
  if (r.status !== 200) throw new Error(`login ${username} failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function eventually<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = await fn();
  while (!ok(last)) {
    if (Date.now() > until) throw new Error(`${what}: not reached in ${timeoutMs} ms; last ${JSON.stringify(last)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await fn();
  }
  return last;
}
