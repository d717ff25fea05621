import type { IncomingMessage, ServerResponse } from 'node:http';

/** The API answers JSON only: nothing may be loaded or framed from it. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/**
 * Swagger UI loads its script and styles from this origin only (served from the installed package,
 * never a CDN). Inline styles are needed by the UI's own markup; no inline scripts run.
 */
const DOCS_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/** Basic security headers on every answer, errors and 404s included. */
export function securityHeaders(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const url = req.url ?? '/';
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-site');
  res.setHeader('Content-Security-Policy', url.startsWith('/api/docs') ? DOCS_CSP : API_CSP);
  // answers carry tokens and fleet data: no shared cache may keep them (a route may say otherwise)
  if (url.startsWith('/api/v2/')) res.setHeader('Cache-Control', 'no-store');
  next();
}
