/** Where agents put their API key. */
export interface KeySources {
  headers: Record<string, string | string[] | undefined>;
  /** the query string, for InfluxDB 1.x clients (`u`/`p`) */
  query?: Record<string, unknown>;
  /** the 1.x write endpoint also takes HTTP Basic auth and `u`/`p` with the key as the password */
  influxV1?: boolean;
}

export const API_KEY_PREFIX = 'amk_';
const KEY_SHAPE = /^amk_[A-Za-z0-9_-]{8,256}$/;

/**
 * Finds an `amk_` API key: `Authorization: Bearer amk_…`, `X-API-Key: amk_…`, `Authorization: Token amk_…`
 * (InfluxDB 2.x clients), and on the 1.x write endpoint HTTP Basic auth or `?u=&p=` with the key as
 * the password. Returns undefined when no key-shaped credential was sent.
 */
export function extractApiKey(src: KeySources): string | undefined {
  const header = (name: string) => {
    const v = src.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const candidates: (string | undefined)[] = [];
  const auth = header('authorization')?.trim();
  if (auth) {
    const m = /^(Bearer|Token|Basic)\s+(.+)$/i.exec(auth);
    if (m) {
      const scheme = m[1]!.toLowerCase();
      if (scheme === 'basic') {
        if (src.influxV1) {
          const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
          const colon = decoded.indexOf(':');
          candidates.push(colon >= 0 ? decoded.slice(colon + 1) : decoded);
        }
      } else candidates.push(m[2]!.trim());
    }
  }
  candidates.push(header('x-api-key')?.trim());
  if (src.influxV1 && typeof src.query?.p === 'string') candidates.push(src.query.p);
  return candidates.find((c): c is string => typeof c === 'string' && KEY_SHAPE.test(c));
}
