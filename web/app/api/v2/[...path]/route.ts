import type { NextRequest } from 'next/server';
import { gatewayUrl } from '@/lib/server/env';
import { recordProxyRequest } from '@/lib/server/metrics';

/**
 * Same-origin proxy from the browser to the gateway's REST API: /api/v2/<path>?<query> is sent to
 * GATEWAY_URL/api/v2/<path>?<query> with its method, headers (Authorization included) and body,
 * and the gateway's status, headers and body come back unchanged. The browser therefore never
 * needs CORS, and the gateway's address is configuration of the running server, not of the build.
 */
export const dynamic = 'force-dynamic';

const UPSTREAM_TIMEOUT_MS = 30_000;

/** Hop-by-hop headers (RFC 9110 §7.6.1) and those the fetch implementation sets itself. */
const DROP_REQUEST = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'accept-encoding',
  'expect',
]);
/** Node's fetch has already decoded the body, so its encoding and length no longer apply. */
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-encoding', 'content-length', 'upgrade', 'trailer']);

function errorBody(statusCode: number, error: string, message: string): Response {
  return Response.json({ statusCode, error, message }, { status: statusCode });
}

async function proxy(req: NextRequest, ctx: { params: Promise<{ path: string[] }> }): Promise<Response> {
  const started = performance.now();
  const { path } = await ctx.params;
  const target = `${gatewayUrl()}/api/v2/${path.map(encodeURIComponent).join('/')}${req.nextUrl.search}`;

  const headers = new Headers();
  req.headers.forEach((value, key) => {
    if (!DROP_REQUEST.has(key.toLowerCase())) headers.set(key, value);
  });
  const forwardedFor = req.headers.get('x-forwarded-for');
  if (!forwardedFor) {
    const ip = req.headers.get('x-real-ip');
    if (ip) headers.set('x-forwarded-for', ip);
  }
  headers.set('x-forwarded-host', req.headers.get('x-forwarded-host') ?? req.headers.get('host') ?? '');
  headers.set('x-forwarded-proto', req.headers.get('x-forwarded-proto') ?? req.nextUrl.protocol.replace(':', ''));

  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const timeout = AbortSignal.timeout(UPSTREAM_TIMEOUT_MS);
  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method: req.method,
      headers,
      body: hasBody ? await req.arrayBuffer() : undefined,
      redirect: 'manual',
      cache: 'no-store',
      signal: AbortSignal.any([timeout, req.signal]),
    });
  } catch {
    const status = timeout.aborted ? 504 : 502;
    recordProxyRequest(req.method, status, performance.now() - started);
    return timeout.aborted
      ? errorBody(504, 'Gateway Timeout', 'The API gateway did not answer in time. Try again.')
      : errorBody(502, 'Bad Gateway', 'The API gateway is not reachable. Try again in a moment.');
  }

  const out = new Headers();
  upstream.headers.forEach((value, key) => {
    if (!DROP_RESPONSE.has(key.toLowerCase()) && key.toLowerCase() !== 'set-cookie') out.append(key, value);
  });
  for (const cookie of upstream.headers.getSetCookie()) out.append('set-cookie', cookie);
  recordProxyRequest(req.method, upstream.status, performance.now() - started);
  const noBody = req.method === 'HEAD' || upstream.status === 204 || upstream.status === 304;
  return new Response(noBody ? null : upstream.body, { status: upstream.status, statusText: upstream.statusText, headers: out });
}

export const GET = proxy;
export const HEAD = proxy;
export const POST = proxy;
export const PUT = proxy;
export const PATCH = proxy;
export const DELETE = proxy;
export const OPTIONS = proxy;
