import { TtlCache } from './ttl-cache.js';

describe('TtlCache', () => {
  it('forgets entries after their time to live', () => {
    let now = 1_000;
    const cache = new TtlCache<string, number>(100, 10, () => now);
    cache.set('a', 1);
    expect(cache.get('a')).toBe(1);
    now += 99;
    expect(cache.get('a')).toBe(1);
    now += 1;
    expect(cache.get('a')).toBeUndefined();
  });

  it('drops the oldest entries beyond its size', () => {
    const cache = new TtlCache<string, number>(60_000, 2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe(2);
    expect(cache.get('c')).toBe(3);
  });

  it('keeps falsy values (a cached "no")', () => {
    const cache = new TtlCache<string, boolean | null>(60_000, 2);
    cache.set('x', false);
    cache.set('y', null);
    expect(cache.get('x')).toBe(false);
    expect(cache.get('y')).toBeNull();
  });

  it('forgets what a revocation picks, and refuses answers looked up before it', () => {
    const cache = new TtlCache<string, { user: string }>(60_000, 10);
    cache.set('s1', { user: 'u1' });
    cache.set('s2', { user: 'u2' });
    const before = cache.generation;
    expect(cache.deleteWhere((v) => v.user === 'u1')).toBe(1);
    expect(cache.get('s1')).toBeUndefined();
    expect(cache.get('s2')).toEqual({ user: 'u2' });
    // an answer fetched while the revocation arrived may be stale: not stored
    expect(cache.setIfUnchanged('s1', { user: 'u1' }, before)).toBe(false);
    expect(cache.get('s1')).toBeUndefined();
    expect(cache.setIfUnchanged('s1', { user: 'u1' }, cache.generation)).toBe(true);
    expect(cache.get('s1')).toEqual({ user: 'u1' });
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
