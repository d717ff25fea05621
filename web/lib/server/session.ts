/**
 * The dashboard's session endpoints (/session/login, /session/refresh, /session/logout) keep the
 * refresh token out of reach of scripts: the server trades it with the gateway and keeps it in an
 * HttpOnly, SameSite=Strict cookie limited to /session; the browser only ever sees the short-lived
 * access token. They live under /session rather than /api so that an ingress that routes /api to
 * the gateway still sends them to the dashboard.
 */
import type { NextRequest } from 'next/server';
import { gatewayUrl } from './env';

export const REFRESH_COOKIE = 'agentmon_refresh';
const COOKIE_PATH = '/session';
const UPSTREAM_TIMEOUT_MS = 15_000;

export interface UpstreamPair {
  access_token: string;
  refresh_token: string;
  token_type?: string;
  expires_in: number;
}

export function errorResponse(statusCode: number, error: string, message: string, headers?: HeadersInit): Response {
  return Response.json({ statusCode, error, message }, { status: statusCode, headers });
}

/** Same-origin JSON requests only: a cross-site form cannot send application/json without a CORS preflight. */
export function refuseCrossSite(req: NextRequest): Response | null {
  const type = req.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/json')) {
    return errorResponse(415, 'Unsupported Media Type', 'session requests must be sent as application/json');
  }
  const site = req.headers.get('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') {
    return errorResponse(403, 'Forbidden', 'session requests must come from the dashboard itself');
  }
  return null;
}

function isHttps(req: NextRequest): boolean {
  const proto = req.headers.get('x-forwarded-proto')?.split(',')[0]?.trim();
  return (proto ?? req.nextUrl.protocol.replace(':', '')) === 'https';
}

/** A session cookie (no Max-Age): it ends with the browser session, the gateway bounds its validity. */
export function refreshCookie(req: NextRequest, value: string | null): string {
  const parts = [
    `${REFRESH_COOKIE}=${value === null ? '' : encodeURIComponent(value)}`,
    `Path=${COOKIE_PATH}`,
    'HttpOnly',
    'SameSite=Strict',
  ];
  if (value === null) parts.push('Max-Age=0');
  if (isHttps(req)) parts.push('Secure');
  return parts.join('; ');
}

export function readRefreshCookie(req: NextRequest): string | null {
  const v = req.cookies.get(REFRESH_COOKIE)?.value;
  return v ? v : null;
}

/** The headers the gateway uses for its audit log and login throttling: client address and user agent. */
function forwardHeaders(req: NextRequest, extra: Record<string, string> = {}): Headers {
  const h = new Headers({ Accept: 'application/json', ...extra });
  const ua = req.headers.get('user-agent');
  if (ua) h.set('user-agent', ua);
  const xff = req.headers.get('x-forwarded-for') ?? req.headers.get('x-real-ip');
  if (xff) h.set('x-forwarded-for', xff);
  const requestId = req.headers.get('x-request-id');
  if (requestId) h.set('x-request-id', requestId);
  h.set('x-forwarded-host', req.headers.get('x-forwarded-host') ?? req.headers.get('host') ?? '');
  h.set('x-forwarded-proto', req.headers.get('x-forwarded-proto') ?? req.nextUrl.protocol.replace(':', ''));
  return h;
}

export type Upstream = { ok: true; status: number; res: Response } | { ok: false; response: Response };

export async function callGateway(req: NextRequest, path: string, init: { body?: unknown; authorization?: string }): Promise<Upstream> {
  const extra: Record<string, string> = {};
  if (init.body !== undefined) extra['content-type'] = 'application/json';
  if (init.authorization) extra.authorization = init.authorization;
  const timeout = AbortSignal.timeout(UPSTREAM_TIMEOUT_MS);
  try {
    const res = await fetch(`${gatewayUrl()}/api/v2/${path}`, {
      method: 'POST',
      headers: forwardHeaders(req, extra),
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      redirect: 'manual',
      cache: 'no-store',
      signal: timeout,
    });
    return { ok: true, status: res.status, res };
  } catch {
    return {
      ok: false,
      response: timeout.aborted
        ? errorResponse(504, 'Gateway Timeout', 'The API gateway did not answer in time. Try again.')
        : errorResponse(502, 'Bad Gateway', 'The API gateway is not reachable. Try again in a moment.'),
    };
  }
}

/** Relays an error answer of the gateway with its status, body and Retry-After/RateLimit headers. */
export async function relayError(res: Response, extraHeaders: Record<string, string> = {}): Promise<Response> {
  const headers = new Headers({ 'content-type': res.headers.get('content-type') ?? 'application/json', 'cache-control': 'no-store', ...extraHeaders });
  res.headers.forEach((value, key) => {
    const k = key.toLowerCase();
    if (k === 'retry-after' || k.startsWith('ratelimit') || k === 'x-request-id') headers.set(key, value);
  });
  return new Response(await res.text(), { status: res.status, headers });
}

/** The browser's half of a token pair: everything but the refresh token. */
export function accessOnly(pair: UpstreamPair, setCookie: string): Response {
  return Response.json(
    { access_token: pair.access_token, token_type: pair.token_type ?? 'Bearer', expires_in: pair.expires_in },
    { status: 200, headers: { 'set-cookie': setCookie, 'cache-control': 'no-store' } },
  );
}

export function isPair(v: unknown): v is UpstreamPair {
  const p = v as Partial<UpstreamPair> | null;
  return !!p && typeof p.access_token === 'string' && typeof p.refresh_token === 'string' && typeof p.expires_in === 'number';
}
