/**
 * The dashboard server's settings, read at request time (never baked into the build):
 * GATEWAY_URL         where the server-side proxy reaches the gateway (default http://127.0.0.1:8000)
 * GATEWAY_PUBLIC_URL  where browsers open socket.io; defaults to GATEWAY_URL; set it to "/" when an
 *                     ingress serves /ws on the dashboard's own origin.
 */
const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8000';

function normalize(url: string, name: string): string {
  const trimmed = url.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw new Error(`${name} must be an absolute http(s) URL, got "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`${name} must be an http(s) URL, got "${url}"`);
  }
  return trimmed;
}

export function gatewayUrl(): string {
  return normalize(process.env.GATEWAY_URL || DEFAULT_GATEWAY_URL, 'GATEWAY_URL');
}

export function gatewayPublicUrl(): string {
  const v = process.env.GATEWAY_PUBLIC_URL;
  if (v === undefined || v === '') return gatewayUrl();
  if (v.trim() === '/') return '';
  return normalize(v, 'GATEWAY_PUBLIC_URL');
}
