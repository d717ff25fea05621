import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { MemoryGcraStore, gcra, type GcraCharge, type RateLimitBudget } from './gcra.js';
import { RateLimiter, rateLimitBudget } from './rate-limiter.js';

/** A GCRA run on an in-memory store with a clock the test moves (ms). */
function bench(...budgets: RateLimitBudget[]) {
  let nowMs = 1_764_000_000_000;
  const store = new MemoryGcraStore(1000, () => nowMs);
  return {
    store,
    at: (ms: number) => (nowMs = 1_764_000_000_000 + ms),
    hit: (cost = 1, keys = budgets.map((b) => `k:${b.name}`)) =>
      gcra(
        budgets.map((budget, i): GcraCharge => ({ budget, key: keys[i]!, cost })),
        nowMs * 1000,
        store,
      ),
  };
}

describe('GCRA (the algorithm of the Redis script, in process)', () => {
  const five = rateLimitBudget('five', 5, 10); // one unit every 2 s

  it('allows a burst of exactly `limit`, counting remaining down, then refuses with the time to the next unit', () => {
    const b = bench(five);
    const seen = Array.from({ length: 5 }, () => b.hit()[0]!);
    expect(seen.map((o) => o.allowed)).toEqual([true, true, true, true, true]);
    expect(seen.map((o) => o.remaining)).toEqual([4, 3, 2, 1, 0]);
    expect(seen[0]).toMatchObject({ retryAfterMs: 0, nextUnitMs: 2000, fullMs: 2000 });
    expect(seen[4]).toMatchObject({ nextUnitMs: 2000, fullMs: 10_000 });
    const refused = b.hit()[0]!;
    expect(refused).toEqual({ allowed: false, remaining: 0, retryAfterMs: 2000, nextUnitMs: 2000, fullMs: 10_000, granted: 0 });
  });

  it('does not charge refused requests: hammering does not prolong the wait', () => {
    const b = bench(five);
    for (let i = 0; i < 5; i++) b.hit();
    for (let i = 0; i < 100; i++) expect(b.hit()[0]!.allowed).toBe(false);
    b.at(1999);
    expect(b.hit()[0]).toMatchObject({ allowed: false, retryAfterMs: 1 });
    b.at(2000);
    expect(b.hit()[0]).toMatchObject({ allowed: true, remaining: 0 });
    expect(b.hit()[0]).toMatchObject({ allowed: false, retryAfterMs: 2000 });
  });

  it('refills continuously, one unit per window/limit, and never banks more than `limit`', () => {
    const b = bench(five);
    for (let i = 0; i < 5; i++) b.hit();
    b.at(5000); // 2.5 units back: 2 usable
    expect(b.hit()[0]).toMatchObject({ allowed: true, remaining: 1, nextUnitMs: 1000 });
    expect(b.hit()[0]).toMatchObject({ allowed: true, remaining: 0, nextUnitMs: 1000 });
    expect(b.hit()[0]).toMatchObject({ allowed: false, retryAfterMs: 1000 });
    b.at(3_600_000); // an hour idle
    expect(Array.from({ length: 6 }, () => b.hit()[0]!.allowed)).toEqual([true, true, true, true, true, false]);
  });

  it('handles an interval that is not a whole number of µs (7 per 60 s)', () => {
    const seven = rateLimitBudget('seven', 7, 60);
    const b = bench(seven);
    expect(Array.from({ length: 8 }, () => b.hit()[0]!.allowed)).toEqual([true, true, true, true, true, true, true, false]);
    expect(b.hit()[0]!.retryAfterMs).toBe(8572); // ceil(60000 / 7)
    b.at(8571);
    expect(b.hit()[0]!.allowed).toBe(false);
    b.at(8572);
    expect(b.hit()[0]).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('a limit of one: every request waits the whole window', () => {
    const b = bench(rateLimitBudget('one', 1, 30));
    expect(b.hit()[0]).toMatchObject({ allowed: true, remaining: 0, nextUnitMs: 30_000 });
    expect(b.hit()[0]).toMatchObject({ allowed: false, retryAfterMs: 30_000 });
  });

  it('charges all budgets or none: the one that refuses names the wait, the others keep their units', () => {
    const narrow = rateLimitBudget('narrow', 2, 10);
    const wide = rateLimitBudget('wide', 10, 10);
    const b = bench(narrow, wide);
    b.hit();
    b.hit();
    const [n, w] = b.hit();
    expect(n).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 5000 });
    expect(w).toMatchObject({ allowed: true, remaining: 8, retryAfterMs: 0 }); // not charged: still 8 left
    b.at(5000);
    const [n2, w2] = b.hit();
    expect(n2!.allowed && w2!.allowed).toBe(true);
    expect(w2!.remaining).toBe(9); // the 2 units it was charged came back in 5 s; never more than 10
  });

  it('keeps one budget per key', () => {
    const b = bench(five);
    for (let i = 0; i < 5; i++) b.hit(1, ['alice']);
    expect(b.hit(1, ['alice'])[0]!.allowed).toBe(false);
    expect(b.hit(1, ['bob'])[0]).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('charges a cost of several units, refusing when fewer are left', () => {
    const ten = rateLimitBudget('ten', 10, 10); // 1 unit a second
    const b = bench(ten);
    expect(b.hit(4)[0]).toMatchObject({ allowed: true, remaining: 6 });
    expect(b.hit(4)[0]).toMatchObject({ allowed: true, remaining: 2 });
    expect(b.hit(4)[0]).toMatchObject({ allowed: false, remaining: 2, retryAfterMs: 2000 });
    expect(b.hit(2)[0]).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('forgets a key once its budget is full again (the TTL)', () => {
    const b = bench(five);
    b.hit();
    b.hit();
    expect(b.store.size).toBe(1);
    b.at(4000); // both units back: TTL was ceil(4000 ms) + 1
    expect(b.store.get('k:five')).toBeDefined();
    b.at(4001);
    expect(b.store.get('k:five')).toBeUndefined();
  });

  it('the in-process store is bounded: the least recently charged key leaves first', () => {
    const store = new MemoryGcraStore(2, () => 0);
    store.set('a', 1, 10_000);
    store.set('b', 1, 10_000);
    store.set('a', 2, 10_000);
    store.set('c', 1, 10_000);
    expect([store.get('a'), store.get('b'), store.get('c')]).toEqual([2, undefined, 1]);
  });
});

describe('GCRA leases (want > cost)', () => {
  const ten = rateLimitBudget('ten', 10, 10); // one unit a second
  const hitWant = (b: ReturnType<typeof bench>, cost: number, want: number, budgets = [ten]) =>
    gcra(budgets.map((budget): GcraCharge => ({ budget, key: `k:${budget.name}`, cost, want })), 1_764_000_000_000 * 1000, b.store);

  it('takes as much of want as the budget holds, never less than the cost', () => {
    const b = bench(ten);
    const first = b.hit(1)[0]!;
    expect(first).toMatchObject({ allowed: true, remaining: 9, granted: 1 });
    const [leased] = gcra([{ budget: ten, key: 'k:ten', cost: 1, want: 6 }], 1_764_000_000_000 * 1000, b.store);
    expect(leased).toMatchObject({ allowed: true, remaining: 3, granted: 6 });
    // 3 left: a want of 6 gets the 3
    const [rest] = gcra([{ budget: ten, key: 'k:ten', cost: 1, want: 6 }], 1_764_000_000_000 * 1000, b.store);
    expect(rest).toMatchObject({ allowed: true, remaining: 0, granted: 3 });
    // empty: refused, nothing granted
    const [refused] = gcra([{ budget: ten, key: 'k:ten', cost: 1, want: 6 }], 1_764_000_000_000 * 1000, b.store);
    expect(refused).toMatchObject({ allowed: false, remaining: 0, granted: 0, retryAfterMs: 1000 });
  });

  it('grants nothing to any budget when one refuses', () => {
    const one = rateLimitBudget('one', 1, 60);
    const b = bench(ten, one);
    b.hit(1);
    const out = hitWant(b, 1, 5, [ten, one]);
    expect(out.map((o) => [o.allowed, o.granted])).toEqual([
      [true, 0],
      [false, 0],
    ]);
  });
});

describe('rateLimitBudget', () => {
  it('refuses names and numbers that headers and Redis keys cannot carry', () => {
    expect(() => rateLimitBudget('API user', 1, 1)).toThrow(/name/);
    expect(() => rateLimitBudget('api', 0, 1)).toThrow(/limit/);
    expect(() => rateLimitBudget('api', 1.5, 1)).toThrow(/limit/);
    expect(() => rateLimitBudget('api', 1, 0)).toThrow(/window/);
    expect(rateLimitBudget('api-user', 1200, 60)).toEqual({ name: 'api-user', limit: 1200, windowSeconds: 60 });
  });
});

describe('RateLimiter without Redis', () => {
  // lazyConnect: the client never connects, so every check finds Redis unavailable
  const redis = new Redis('redis://127.0.0.1:1/0', { lazyConnect: true });
  afterAll(() => redis.disconnect());
  const budget = rateLimitBudget('login-user', 2, 60);

  it('fails open for `allow` budgets (no headers to give) and counts it', async () => {
    const registry = new Registry();
    const limiter = new RateLimiter({ redis, keyPrefix: 't:', registry });
    for (let i = 0; i < 3; i++) {
      expect(await limiter.consume([{ budget, key: 'x' }], 'allow')).toEqual({ allowed: true, outcomes: [], retryAfterSeconds: 0, checkedBy: 'unchecked' });
    }
    expect(await registry.getSingleMetricAsString('agentmon_rate_limit_unavailable_total')).toMatch(/fallback="allow"} 3/);
  });

  it('checks `local` budgets in this process and still refuses past the budget', async () => {
    const registry = new Registry();
    const limiter = new RateLimiter({ redis, keyPrefix: 't:', registry });
    const a = await limiter.consume([{ budget, key: 'y' }], 'local');
    const b = await limiter.consume([{ budget, key: 'y' }], 'local');
    const c = await limiter.consume([{ budget, key: 'y' }], 'local');
    expect([a.allowed, b.allowed, c.allowed]).toEqual([true, true, false]);
    expect(c).toMatchObject({ checkedBy: 'local', retryAfterSeconds: 30, outcomes: [{ remaining: 0, budget }] });
    const decisions = await registry.getSingleMetricAsString('agentmon_rate_limit_decisions_total');
    expect(decisions).toMatch(/budget="login-user",outcome="limited"} 1/);
    // allowed decisions are tallied apart and added when the counter is read, each once
    expect(decisions).toMatch(/budget="login-user",outcome="allowed"} 2/);
    await limiter.consume([{ budget, key: 'w' }], 'local');
    expect(await registry.getSingleMetricAsString('agentmon_rate_limit_decisions_total')).toMatch(/budget="login-user",outcome="allowed"} 3/);
  });

  it('refuses a cost the budget can never allow (a programming error, not a 429)', async () => {
    const limiter = new RateLimiter({ redis, keyPrefix: 't:' });
    await expect(limiter.consume([{ budget, key: 'z', cost: 3 }])).rejects.toThrow(/outside 1\.\.2/);
  });
});
