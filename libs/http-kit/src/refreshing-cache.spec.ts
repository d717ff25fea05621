import { RefreshingCache } from './refreshing-cache.js';

// The cache's rules with a clock of the test's own and loads the test settles one by one (the
// services' use of it: services/ingest/src/auth/api-key.verifier.spec.ts, the gateway's revocation
// and API-key integration tests).
function setup(opts: { ttlMs?: number; maxEntries?: number; ttlOf?: (value: string | null) => number } = {}) {
  let now = 1_000;
  const cache = new RefreshingCache<string, string | null>({ ttlMs: opts.ttlMs ?? 100, ttlOf: opts.ttlOf, maxEntries: opts.maxEntries ?? 10, now: () => now });
  const pending: { key: string; current: string | null | undefined; answer(v: string | null): void; fail(e: Error): void }[] = [];
  const load = (key: string) => (current?: string | null) =>
    new Promise<string | null>((resolve, reject) => {
      pending.push({ key, current, answer: resolve, fail: reject });
    });
  /** `key` loaded and cached with `value` (the next load the test settles is then pending[1]) */
  const cached = async (key: string, value: string | null) => {
    const first = cache.get(key, load(key));
    pending[pending.length - 1]!.answer(value);
    await first;
  };
  return { cache, pending, load, cached, advance: (ms: number) => (now += ms) };
}
const turn = () => new Promise((r) => setImmediate(r));

describe('RefreshingCache', () => {
  it('shares one load between callers, then answers from the cache until the answer is due for a refresh', async () => {
    const { cache, pending, load, advance } = setup();
    const a = cache.get('k', load('k'));
    const b = cache.get('k', load('k'));
    expect(pending).toHaveLength(1);
    pending[0]!.answer('v1');
    expect(await a).toBe('v1');
    expect(await b).toBe('v1');
    advance(74);
    expect(await cache.get('k', load('k'))).toBe('v1');
    expect(pending).toHaveLength(1);
  });

  it('refreshes in the background past three quarters of its time, and serves the new answer after', async () => {
    const { cache, pending, load, cached, advance } = setup();
    await cached('k', 'v1');
    advance(75);
    expect(await cache.get('k', load('k'))).toBe('v1');
    expect(await cache.get('k', load('k'))).toBe('v1');
    expect(pending).toHaveLength(2);
    pending[1]!.answer('v2');
    await turn();
    advance(60); // past the first answer's time
    expect(await cache.get('k', load('k'))).toBe('v2');
    expect(pending).toHaveLength(2);
  });

  it('makes callers wait once an answer is out of time, and keeps nothing a load threw', async () => {
    const { cache, pending, load, cached, advance } = setup();
    await cached('k', 'v1');
    advance(100);
    const second = cache.get('k', load('k'));
    expect(pending).toHaveLength(2);
    pending[1]!.fail(new Error('down'));
    await expect(second).rejects.toThrow('down');
    const third = cache.get('k', load('k'));
    expect(pending).toHaveLength(3);
    pending[2]!.answer('v3');
    expect(await third).toBe('v3');
  });

  it('does not refresh again after a failed refresh, nor an answer refreshable() declines', async () => {
    const { cache, pending, load, cached, advance } = setup();
    await cached('k', 'v1');
    const refused = cache.get('r', load('r'));
    pending[1]!.answer(null);
    await refused;
    advance(80);
    await cache.get('k', load('k'));
    pending[2]!.fail(new Error('down'));
    await turn();
    for (let i = 0; i < 5; i++) expect(await cache.get('k', load('k'))).toBe('v1');
    expect(await cache.get('r', load('r'), (v) => v !== null)).toBeNull();
    expect(pending).toHaveLength(3);
  });

  it('drops the oldest entries beyond its size', async () => {
    const { cache, pending, load } = setup({ maxEntries: 2 });
    for (const k of ['a', 'b', 'c']) {
      const got = cache.get(k, load(k));
      pending[pending.length - 1]!.answer(k === 'a' ? null : k);
      await got;
    }
    expect(cache.size).toBe(2);
    // 'a' left: asking for it loads again
    void cache.get('a', load('a'));
    expect(pending).toHaveLength(4);
  });

  it('forgets what a revocation picks, and neither keeps nor shares a load that was under way', async () => {
    const { cache, pending, load } = setup();
    for (const k of ['s1', 's2']) {
      const got = cache.get(k, load(k));
      pending[pending.length - 1]!.answer(`user-of-${k}`);
      await got;
    }
    const onItsWay = cache.get('s3', load('s3'));
    expect(cache.deleteWhere((v) => v === 'user-of-s1')).toBe(1);
    // a caller after the revocation asks anew
    const after = cache.get('s3', load('s3'));
    expect(pending).toHaveLength(4);
    pending[2]!.answer('stale');
    expect(await onItsWay).toBe('stale');
    pending[3]!.answer('fresh');
    expect(await after).toBe('fresh');
    expect(await cache.get('s3', load('s3'))).toBe('fresh');
    expect(await cache.get('s2', load('s2'))).toBe('user-of-s2');
    void cache.get('s1', load('s1'));
    expect(pending).toHaveLength(5);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('keeps nothing with a time of 0, but still shares a load', async () => {
    const { cache, pending, load } = setup({ ttlMs: 0 });
    const a = cache.get('k', load('k'));
    const b = cache.get('k', load('k'));
    pending[0]!.answer('v');
    expect([await a, await b]).toEqual(['v', 'v']);
    void cache.get('k', load('k'));
    expect(pending).toHaveLength(2);
  });

  it('keeps an answer as long as ttlOf says, and refreshes it at three quarters of that', async () => {
    const { cache, pending, load, cached, advance } = setup({ ttlOf: (v) => (v === null ? 20 : 100) });
    await cached('unknown', null);
    advance(15);
    expect(await cache.get('unknown', load('unknown'))).toBeNull();
    expect(pending.map((p) => [p.key, p.current])).toEqual([
      ['unknown', undefined],
      ['unknown', null],
    ]);
    pending[1]!.answer(null);
    await turn();
    advance(20);
    const waiting = cache.get('unknown', load('unknown'));
    expect(pending).toHaveLength(3);
    pending[2]!.answer('v');
    expect(await waiting).toBe('v');
    advance(99);
    expect(cache.peek('unknown')).toBe('v');
  });

  it('loads again, and makes the caller wait, when the cached answer is not usable for it', async () => {
    const { cache, pending, load, cached } = setup();
    await cached('k', 'short');
    const long = (v: string | null) => (v ?? '').length > 5;
    expect(cache.cached('k', load('k'))).toBe('short');
    expect(cache.cached('k', load('k'), undefined, long)).toBeUndefined();
    const waiting = cache.get('k', load('k'), undefined, long);
    const other = cache.get('k', load('k'), undefined, long);
    // one load shared by both; it is not a refresh of the cached answer
    expect(pending.map((p) => p.current)).toEqual([undefined, undefined]);
    pending[1]!.answer('much longer');
    expect([await waiting, await other]).toEqual(['much longer', 'much longer']);
    expect(cache.cached('k', load('k'), undefined, long)).toBe('much longer');
  });

  it('peeks at a live answer without loading or refreshing it, and at nothing once it is out of time', async () => {
    const { cache, pending, cached, advance } = setup();
    expect(cache.peek('k')).toBeUndefined();
    await cached('k', 'v1');
    advance(90);
    expect(cache.peek('k')).toBe('v1');
    expect(pending).toHaveLength(1);
    advance(10);
    expect(cache.peek('k')).toBeUndefined();
  });
});
