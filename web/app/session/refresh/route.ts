import type { NextRequest } from 'next/server';
import { accessOnly, callGateway, errorResponse, isPair, readRefreshCookie, refreshCookie, refuseCrossSite, type UpstreamPair } from '@/lib/server/session';

export const dynamic = 'force-dynamic';

type Outcome = { kind: 'pair'; pair: UpstreamPair } | { kind: 'refused'; status: number; text: string; type: string } | { kind: 'failed'; response: () => Response };

/**
 * A refresh token works once, and presenting a used one revokes the whole session. Two tabs share
 * the cookie, so requests that arrive together with the same token share one exchange here (the
 * browser also serialises its tabs with a Web Lock); each gets the same new pair.
 */
const inFlight = new Map<string, Promise<Outcome>>();

async function exchange(req: NextRequest, token: string): Promise<Outcome> {
  const up = await callGateway(req, 'auth/refresh', { body: { refresh_token: token } });
  if (!up.ok) {
    const r = up.response;
    const text = await r.text();
    return { kind: 'failed', response: () => new Response(text, { status: r.status, headers: r.headers }) };
  }
  if (up.status === 200) {
    const pair: unknown = await up.res.json().catch(() => null);
    if (isPair(pair)) return { kind: 'pair', pair };
    return { kind: 'failed', response: () => errorResponse(502, 'Bad Gateway', 'The API gateway sent an unexpected refresh answer.') };
  }
  const text = await up.res.text();
  const type = up.res.headers.get('content-type') ?? 'application/json';
  if (up.status >= 400 && up.status < 500 && up.status !== 429) return { kind: 'refused', status: up.status, text, type };
  const retryAfter = up.res.headers.get('retry-after');
  return {
    kind: 'failed',
    response: () => new Response(text, { status: up.status, headers: { 'content-type': type, ...(retryAfter ? { 'retry-after': retryAfter } : {}) } }),
  };
}

/**
 * POST /session/refresh: trades the refresh cookie for a new pair, sets the new cookie and answers
 * {access_token, token_type, expires_in}. Without a cookie, or when the gateway refuses it, 401 and
 * the cookie is cleared; when the gateway cannot be asked, 502/503/504 and the cookie is kept.
 */
export async function POST(req: NextRequest): Promise<Response> {
  const refused = refuseCrossSite(req);
  if (refused) return refused;
  const token = readRefreshCookie(req);
  if (!token) {
    return errorResponse(401, 'Unauthorized', 'Not logged in.', { 'set-cookie': refreshCookie(req, null), 'cache-control': 'no-store' });
  }
  let pending = inFlight.get(token);
  if (!pending) {
    pending = exchange(req, token).finally(() => inFlight.delete(token));
    inFlight.set(token, pending);
  }
  const outcome = await pending;
  switch (outcome.kind) {
    case 'pair':
      return accessOnly(outcome.pair, refreshCookie(req, outcome.pair.refresh_token));
    case 'refused':
      return new Response(outcome.text, {
        status: outcome.status,
        headers: { 'content-type': outcome.type, 'set-cookie': refreshCookie(req, null), 'cache-control': 'no-store' },
      });
    case 'failed':
      return outcome.response();
  }
}
