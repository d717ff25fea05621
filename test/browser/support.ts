/**
 * What the browser specs share: the stack's addresses from the e2e harness, plain HTTP calls to the
 * gateway, polling, a headless Debian Chromium, and screenshots.
 *   AGENTMON_WEB_URL         the dashboard, e.g. http://127.0.0.1:13000
 *   AGENTMON_GATEWAY_URL     the gateway, e.g. http://127.0.0.1:18000
 *   AGENTMON_INGEST_URL      the ingest service, e.g. http://127.0.0.1:18001
 *   AGENTMON_ADMIN_PASSWORD  the password of the first admin user
 * Chromium is Debian's (/usr/bin/chromium, `apt-get install -y chromium`); nothing is downloaded.
 * Screenshots (of failures, and of the pages a spec wants to keep) go to AGENTMON_BROWSER_ARTIFACTS
 * (default <tmp>/agentmon-browser).
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { recordAuthorization, recordSecret, recordSecretsIn } from '../support/secret-record.js';

export const CHROMIUM = process.env.AGENTMON_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = process.env.AGENTMON_BROWSER_ARTIFACTS ?? join(tmpdir(), 'agentmon-browser');

export interface Env {
  web: string;
  gateway: string;
  ingest: string;
  adminPassword: string;
}

export function readEnv(): Env {
  const missing: string[] = [];
  const get = (name: string) => {
    const v = process.env[name];
    if (!v) missing.push(name);
    return (v ?? '').replace(/\/+$/, '');
  };
  const env = {
    web: get('AGENTMON_WEB_URL'),
    gateway: get('AGENTMON_GATEWAY_URL'),
    ingest: get('AGENTMON_INGEST_URL'),
    adminPassword: process.env.AGENTMON_ADMIN_PASSWORD ?? '',
  };
  recordSecret('admin password', env.adminPassword);
  if (!env.adminPassword) missing.push('AGENTMON_ADMIN_PASSWORD');
  if (missing.length > 0) {
    throw new Error(`The browser test runs against a running stack; set ${missing.join(', ')} (the e2e harness does).`);
  }
  return env;
}

export interface HttpResult<T> {
  status: number;
  body: T;
}

export async function http<T = unknown>(
  method: string,
  url: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  // every secret the test sends or receives is written down for the secrets-in-logs check of npm test
  recordAuthorization(headers.Authorization);
  recordSecretsIn(`${method} request`, opts.body);
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  const body = (text ? JSON.parse(text) : undefined) as T;
  recordSecretsIn(`${method} answer`, body);
  return { status: res.status, body };
}

/** Retries `check` until it stops throwing or `timeoutMs` has passed (then rethrows its last error). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 15_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Runs a step and keeps a screenshot of the page when it fails. */
export async function step(page: Page | undefined, name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (page) {
      const file = await screenshot(page, `failed-${name}-${Date.now().toString(36)}`).catch(() => null);
      (err as Error).message += `\n(screenshot: ${file ?? 'none'}, page: ${page.url()})`;
    }
    throw err;
  }
}
