import type { NextRequest } from 'next/server';
import { accessOnly, callGateway, errorResponse, isPair, refreshCookie, refuseCrossSite, relayError } from '@/lib/server/session';

export const dynamic = 'force-dynamic';

/**
 * POST /session/login {username, password}: logs in at the gateway, keeps the refresh token in an
 * HttpOnly cookie and answers {access_token, token_type, expires_in}. Errors (401, 429 with
 * Retry-After, 400 naming the field) come back as the gateway sent them.
 */
export async function POST(req: NextRequest): Promise<Response> {
  const refused = refuseCrossSite(req);
  if (refused) return refused;
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    return errorResponse(400, 'Bad Request', 'request body is not valid JSON');
  }
  const up = await callGateway(req, 'auth/login', { body });
  if (!up.ok) return up.response;
  if (up.status !== 200) return relayError(up.res);
  const pair: unknown = await up.res.json().catch(() => null);
  if (!isPair(pair)) return errorResponse(502, 'Bad Gateway', 'The API gateway sent an unexpected login answer.');
  return accessOnly(pair, refreshCookie(req, pair.refresh_token));
}
