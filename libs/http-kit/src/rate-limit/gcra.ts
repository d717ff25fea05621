/**
 * The GCRA of gcra.lua.ts in TypeScript, step for step: the in-process fallback of budgets that must
 * not go unchecked while Redis is away (login), and the reference the unit tests pin the edges on.
 * Keep the two in step; the Redis integration test runs the same cases against the script.
 */

/** A rate-limit budget: `limit` units per `windowSeconds`, as a burst or spread out. */
export interface RateLimitBudget {
  /** policy name in the RateLimit headers and metrics: lower-case letters, digits and `-` */
  name: string;
  limit: number;
  windowSeconds: number;
}

/** Where one budget stands after a request, as the script answers it. */
export interface GcraOutcome {
  /** this budget alone would allow the request */
  allowed: boolean;
  /** units left after this request (not charged when another budget refused it) */
  remaining: number;
  /** ms until this request would be allowed by this budget; 0 when it is */
  retryAfterMs: number;
  /** ms until one more unit is available; 0 when the budget is full */
  nextUnitMs: number;
  /** ms until the budget is full again */
  fullMs: number;
  /** units charged: the cost plus any lease (up to `want`); 0 when nothing was charged */
  granted: number;
}

export interface GcraCharge {
  key: string;
  budget: RateLimitBudget;
  cost: number;
  /** units to take when the budget holds them (cost ≤ want ≤ limit; default the cost): a lease */
  want?: number;
}

const TOLERANCE_US = 1;

/**
 * Runs GCRA over several budgets at once, all or nothing, on a map of TATs (µs). `store` is read
 * and, when every budget allows, written; nothing else changes it.
 */
export function gcra(charges: readonly GcraCharge[], nowUs: number, store: { get(key: string): number | undefined; set(key: string, tatUs: number, ttlMs: number): void }): GcraOutcome[] {
  const steps = charges.map(({ key, budget, cost, want = cost }) => {
    const windowUs = budget.windowSeconds * 1_000_000;
    const interval = windowUs / budget.limit;
    const stored = store.get(key);
    const d = stored === undefined ? 0 : Math.max(0, stored - nowUs);
    // as much of `want` as the budget holds, never less than the cost
    const take = Math.max(cost, Math.min(want, Math.floor((windowUs + TOLERANCE_US - d) / interval)));
    const nd = d + interval * take;
    return { key, limit: budget.limit, windowUs, interval, d, nd, take, ok: nd <= windowUs + TOLERANCE_US };
  });
  const all = steps.every((s) => s.ok);
  const outcomes = steps.map((s): GcraOutcome => {
    const x = all ? s.nd : s.d;
    const remaining = Math.max(0, Math.floor((s.windowUs - x + TOLERANCE_US) / s.interval));
    const nextUnit = remaining < s.limit ? Math.max(0, x - s.windowUs + (remaining + 1) * s.interval) : 0;
    return {
      allowed: s.ok,
      remaining,
      retryAfterMs: s.ok ? 0 : Math.ceil((s.nd - s.windowUs) / 1000),
      nextUnitMs: Math.ceil(nextUnit / 1000),
      fullMs: Math.ceil(x / 1000),
      granted: all ? s.take : 0,
    };
  });
  if (all) for (const s of steps) store.set(s.key, nowUs + s.nd, Math.ceil(s.nd / 1000) + 1);
  return outcomes;
}

/**
 * GCRA state in this process only, bounded: used when Redis cannot be reached, for budgets that
 * must stay checked (per replica, so N replicas allow up to N times the budget).
 */
export class MemoryGcraStore {
  private readonly tats = new Map<string, { tatUs: number; expiresMs: number }>();

  constructor(
    private readonly maxKeys = 100_000,
    private readonly nowMs: () => number = Date.now,
  ) {}

  get(key: string): number | undefined {
    const e = this.tats.get(key);
    if (!e) return undefined;
    if (e.expiresMs <= this.nowMs()) {
      this.tats.delete(key);
      return undefined;
    }
    return e.tatUs;
  }

  set(key: string, tatUs: number, ttlMs: number): void {
    this.tats.delete(key); // re-insert: Map order is then least recently charged first
    this.tats.set(key, { tatUs, expiresMs: this.nowMs() + ttlMs });
    while (this.tats.size > this.maxKeys) this.tats.delete(this.tats.keys().next().value!);
  }

  get size(): number {
    return this.tats.size;
  }
}
