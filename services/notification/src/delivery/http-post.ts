import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpPostResult {
  ok: boolean;
  status: number | null;
  /** a short reason when not ok: never the URL (it can be a secret) nor request headers */
  error: string | null;
}

const MAX_ERROR_BODY = 2048;

/**
 * POSTs a body to a user-given http(s) URL with a hard time limit. Redirects are never followed
 * (a 3xx is a failed attempt): a redirect could send the signed alert, and custom headers, to a
 * host nobody configured. Each attempt opens its own connection (no shared keep-alive pool).
 *
 * SSRF: the URL is user-provided and may point inside the cluster; limiting destinations (deny
 * private ranges, an allow-list, or an egress proxy) is left to a later change; see README.
 */
export function postJson(target: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<HttpPostResult> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return Promise.resolve({ ok: false, status: null, error: 'the channel URL is not a valid URL' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.resolve({ ok: false, status: null, error: `only http and https URLs are allowed, not ${url.protocol}` });
  }
  const payload = Buffer.from(body, 'utf8');
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;

  return new Promise<HttpPostResult>((resolve) => {
    let settled = false;
    const finish = (result: HttpPostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = send(url, {
      method: 'POST',
      agent: false,
      headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(payload.length) },
    });
    const timer = setTimeout(() => {
      finish({ ok: false, status: null, error: `timed out after ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);

    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        res.resume();
        res.on('end', () => finish({ ok: true, status, error: null }));
        res.on('error', () => finish({ ok: true, status, error: null }));
        return;
      }
      if (status >= 300 && status < 400) {
        res.resume();
        const location = res.headers.location;
        let where = 'elsewhere';
        try {
          if (location) where = new URL(location, url).host === url.host ? 'another path of the same host' : `another host (${new URL(location, url).host})`;
        } catch {
          /* unreadable Location */
        }
        finish({ ok: false, status, error: `HTTP ${status} redirect to ${where} not followed` });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_ERROR_BODY) chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_ERROR_BODY) res.destroy();
      });
      const done = () => finish({ ok: false, status, error: `HTTP ${status}${snippet(Buffer.concat(chunks))}` });
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
    req.on('error', (err) => finish({ ok: false, status: null, error: describeNetworkError(err) }));
    req.end(payload);
  });
}

function snippet(body: Buffer): string {
  const text = body.toString('utf8', 0, Math.min(body.length, 300)).replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return text ? `: ${text.slice(0, 200)}` : '';
}

/** A reason a person can act on; node's messages can carry the full URL, so build our own. */
export function describeNetworkError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { hostname?: string };
  switch (e?.code) {
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host not found (${e.code})`;
    case 'ECONNRESET':
      return 'connection reset by the server (ECONNRESET)';
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
      return `connection timed out (${e.code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `host unreachable (${e.code})`;
    default:
      if (typeof e?.code === 'string' && /CERT|SSL|TLS/.test(e.code)) return `TLS error (${e.code})`;
      return e?.code ? `request failed (${e.code})` : 'request failed';
  }
}
