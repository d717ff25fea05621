/** Where the end-to-end stack listens (set by scripts/test.mjs) and small HTTP helpers. */
export const E2E = {
  gateway: process.env.AGENTMON_GATEWAY_URL ?? 'http://127.0.0.1:18000',
  ingest: process.env.AGENTMON_INGEST_URL ?? 'http://127.0.0.1:18001',
  web: process.env.AGENTMON_WEB_URL ?? 'http://127.0.0.1:13000',
  adminPassword: process.env.AGENTMON_ADMIN_PASSWORD ?? 'e2e-admin-password-0001',
  heartbeatTimeoutMs: Number(process.env.AGENTMON_HEARTBEAT_TIMEOUT_MS ?? 4000),
};

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
