import type { NextRequest } from 'next/server';
import { callGateway, isPair, readRefreshCookie, refreshCookie, refuseCrossSite } from '@/lib/server/session';

export const dynamic = 'force-dynamic';

/**
 * POST /session/logout (Authorization: Bearer <access token>): revokes the session at the gateway
 * and clears the refresh cookie. When the access token has already expired (a laptop that slept),
 * the refresh cookie is traded for a fresh token first, so the session is revoked on the server
 * rather than merely forgotten by the browser. Always clears the cookie and answers 200 {revoked},
 * which says whether the gateway confirmed that the session has ended.
 */
export async function POST(req: NextRequest): Promise<Response> {
  const refused = refuseCrossSite(req);
  if (refused) return refused;
  const clear = { 'set-cookie': refreshCookie(req, null), 'cache-control': 'no-store' };

  let revoked = false;
  const authorization = req.headers.get('authorization');
  if (authorization) {
    const up = await callGateway(req, 'auth/logout', { authorization });
    revoked = up.ok && up.status < 300;
  }
  const token = readRefreshCookie(req);
  if (!revoked && token) {
    const refreshed = await callGateway(req, 'auth/refresh', { body: { refresh_token: token } });
    if (refreshed.ok && refreshed.status === 200) {
      const pair: unknown = await refreshed.res.json().catch(() => null);
      if (isPair(pair)) {
        const up = await callGateway(req, 'auth/logout', { authorization: `Bearer ${pair.access_token}` });
        revoked = up.ok && up.status < 300;
      }
    } else if (refreshed.ok && refreshed.status >= 400 && refreshed.status < 500 && refreshed.status !== 429) {
      // the gateway no longer knows the refresh token: that session is already over
      revoked = true;
    }
  }
  return Response.json({ revoked }, { status: 200, headers: clear });
}
