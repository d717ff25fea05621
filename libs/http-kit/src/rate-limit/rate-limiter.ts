import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { GCRA_LUA } from './gcra.lua.js';
import { MemoryGcraStore, gcra, type GcraOutcome, type RateLimitBudget } from './gcra.js';

export type { RateLimitBudget } from './gcra.js';

/** One budget a request is charged against: which budget, for whom (`key`), how many units. */
export interface RateLimitCharge {
  budget: RateLimitBudget;
  /** who the budget is kept for (a user id, a key id, an address); part of the Redis key */
  key: string;
  /** units this request costs (default 1) */
  cost?: number;
}

export interface BudgetOutcome extends GcraOutcome {
  budget: RateLimitBudget;
}

export interface RateLimitDecision {
  /** every budget allowed the request (and each was charged) */
  allowed: boolean;
  /** one per charge, in order; empty when the request went unchecked */
  outcomes: BudgetOutcome[];
  /** whole seconds to wait before retrying (at least 1) when refused; 0 when allowed */
  retryAfterSeconds: number;
  /** `redis`: shared by every replica; `local`: this process only (Redis away); `unchecked`: let through (Redis away) */
  checkedBy: 'redis' | 'local' | 'unchecked';
}

/**
 * What to do when Redis cannot answer in time: `allow` lets the request through unchecked (an API
 * must not fail because its rate limiter did); `local` checks the budgets in this process only,
 * for budgets that must never go unchecked (brute force on login).
 */
export type WhenRedisUnavailable = 'allow' | 'local';

export interface RateLimiterOptions {
  redis: Redis;
  /** prefix of every key, e.g. `agentmon:gateway:rl:` */
  keyPrefix: string;
  /** longest wait for Redis before the request is treated as "Redis unavailable" (default 250 ms) */
  timeoutMs?: number;
  logger?: { warn(obj: object, msg: string): void };
  /** the service's Prometheus registry, for the decision and fallback counters */
  registry?: Registry;
  /** most keys the in-process fallback keeps (oldest leave first) */
  localMaxKeys?: number;
  /** leases for busy keys (default off); see RateLimitLeases */
  lease?: RateLimitLeases;
}

/**
 * Leases: a key that is busy takes, along with the units of the request in hand, the units its
 * traffic will need for the next `horizonMs` (as far as the budget holds them) and spends them in
 * this process, so a key sending hundreds of requests a second costs Redis a few round trips a
 * second instead of one per request. The budget stays shared and is never exceeded: leased units
 * are charged in Redis when taken. What a replica leased and did not spend within `ttlMs` is dropped
 * (charged but unused), so a client can get slightly less than its budget across replicas, never
 * more. Budgets under `minLimit` units are never leased (login and other small budgets stay exact).
 */
export interface RateLimitLeases {
  /** how far ahead, in ms of the key's recent traffic, a lease reaches (e.g. 250) */
  horizonMs: number;
  /** a lease unspent for this long is dropped (default 1000 ms) */
  ttlMs?: number;
  /** budgets with a smaller limit are never leased (default 100) */
  minLimit?: number;
  /** at most this fraction of a budget's limit is leased at once (default 0.1) */
  maxFraction?: number;
}

/** Units of one budget key held by this process, and what Redis said when they were taken. */
interface Lease {
  units: number;
  expiresAt: number;
  remaining: number;
  nextUnitMs: number;
  fullMs: number;
  /** requests of this key in the current second, and in the one before (the traffic estimate) */
  second: number;
  count: number;
  previous: number;
}

const COMMAND = 'agentmonRateLimitGcra';
const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const WARN_EVERY_MS = 60_000;

type Step = { key: string; budget: RateLimitBudget; cost: number };

type GcraCommand = (numKeys: number, ...keysAndArgs: (string | number)[]) => Promise<unknown>;

/** A budget, checked once: a name usable in headers and metrics, a whole positive limit and window. */
export function rateLimitBudget(name: string, limit: number, windowSeconds: number): RateLimitBudget {
  if (!NAME.test(name)) throw new Error(`rate-limit budget name ${JSON.stringify(name)} must be lower-case letters, digits and -`);
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`rate-limit budget ${name}: limit must be a whole number ≥ 1`);
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1) throw new Error(`rate-limit budget ${name}: window must be whole seconds ≥ 1`);
  return Object.freeze({ name, limit, windowSeconds });
}

/**
 * Rate limits kept in Redis and so shared by every replica: GCRA budgets (gcra.lua.ts), all the
 * budgets of one request checked and charged atomically in one round-trip (EVALSHA of a script
 * defined with ioredis `defineCommand`, which loads it again after a Redis restart).
 */
export class RateLimiter {
  private readonly redis: Redis;
  private readonly timeoutMs: number;
  private readonly local: MemoryGcraStore;
  private readonly metrics?: { decisions: Counter<'budget' | 'outcome'>; unavailable: Counter<'fallback'> };
  private lastWarning = 0;
  private suppressedWarnings = 0;
  private readonly leases = new Map<string, Lease>();
  /**
   * allowed decisions per budget since the counter was last read, added to it when it is read:
   * prom-client hashes an increment's labels every time, and ingest decides on every request
   */
  private readonly allowedSinceRead = new Map<string, number>();

  constructor(private readonly opts: RateLimiterOptions) {
    this.redis = opts.redis;
    this.timeoutMs = opts.timeoutMs ?? 250;
    this.local = new MemoryGcraStore(opts.localMaxKeys ?? 100_000);
    if (typeof (this.redis as unknown as Record<string, unknown>)[COMMAND] !== 'function') {
      this.redis.defineCommand(COMMAND, { lua: GCRA_LUA });
    }
    if (opts.registry) {
      const allowedSinceRead = this.allowedSinceRead;
      this.metrics = {
        decisions: new Counter({
          name: 'agentmon_rate_limit_decisions_total',
          help: 'Requests checked against a rate-limit budget: allowed, or limited (refused with 429) by that budget',
          labelNames: ['budget', 'outcome'] as const,
          registers: [opts.registry],
          collect() {
            for (const [budget, n] of allowedSinceRead) this.inc({ budget, outcome: 'allowed' }, n);
            allowedSinceRead.clear();
          },
        }),
        unavailable: new Counter({
          name: 'agentmon_rate_limit_unavailable_total',
          help: 'Requests whose rate limits Redis could not check in time, by what happened instead (allow: let through unchecked; local: checked in this process only)',
          labelNames: ['fallback'] as const,
          registers: [opts.registry],
        }),
      };
    }
  }

  /** Checks and charges every budget of one request, all or nothing. Never throws for Redis trouble. */
  async consume(charges: readonly RateLimitCharge[], whenUnavailable: WhenRedisUnavailable = 'allow'): Promise<RateLimitDecision> {
    if (charges.length === 0) return { allowed: true, outcomes: [], retryAfterSeconds: 0, checkedBy: 'redis' };
    const steps = charges.map((c) => {
      const cost = c.cost ?? 1;
      if (!Number.isInteger(cost) || cost < 1 || cost > c.budget.limit) throw new Error(`rate-limit cost ${cost} is outside 1..${c.budget.limit} of ${c.budget.name}`);
      return { key: `${this.opts.keyPrefix}${c.budget.name}:${c.key}`, budget: c.budget, cost };
    });
    let outcomes: GcraOutcome[];
    let checkedBy: RateLimitDecision['checkedBy'] = 'redis';
    const leased = this.opts.lease ? this.fromLeases(steps) : null;
    if (leased) return this.decide(steps, leased, 'redis');
    try {
      outcomes = await this.inRedis(steps);
      if (this.opts.lease) outcomes = this.keepLeases(steps, outcomes);
    } catch (err) {
      this.warn(err, whenUnavailable);
      this.metrics?.unavailable.inc({ fallback: whenUnavailable });
      if (whenUnavailable === 'allow') return { allowed: true, outcomes: [], retryAfterSeconds: 0, checkedBy: 'unchecked' };
      outcomes = gcra(steps, Date.now() * 1000, this.local);
      checkedBy = 'local';
    }
    return this.decide(steps, outcomes, checkedBy);
  }

  private decide(steps: Step[], outcomes: GcraOutcome[], checkedBy: RateLimitDecision['checkedBy']): RateLimitDecision {
    const allowed = outcomes.every((o) => o.allowed);
    // each outcome built with the same fields in the same order: a spread of the GCRA outcome made
    // V8 copy property by property (docs/benchmarks.md, item 37)
    const budgeted: BudgetOutcome[] = new Array(outcomes.length);
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i]!;
      budgeted[i] = { allowed: o.allowed, remaining: o.remaining, retryAfterMs: o.retryAfterMs, nextUnitMs: o.nextUnitMs, fullMs: o.fullMs, granted: o.granted, budget: steps[i]!.budget };
    }
    const decision: RateLimitDecision = {
      allowed,
      outcomes: budgeted,
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(Math.max(...outcomes.map((o) => o.retryAfterMs)) / 1000)),
      checkedBy,
    };
    if (this.metrics) {
      for (const o of budgeted) {
        if (allowed) this.allowedSinceRead.set(o.budget.name, (this.allowedSinceRead.get(o.budget.name) ?? 0) + 1);
        else if (!o.allowed) this.metrics.decisions.inc({ budget: o.budget.name, outcome: 'limited' });
      }
    }
    return decision;
  }

  /**
   * The request served from the leases of this process: every budget key holds a live lease with
   * the units of the request (which are then spent), or null and nothing is spent. Also counts the
   * key's traffic, from which keepLeases sizes the next lease.
   */
  private fromLeases(steps: Step[]): GcraOutcome[] | null {
    const now = Date.now();
    let all = true;
    for (const s of steps) {
      let lease = this.leases.get(s.key);
      if (!lease) {
        if (this.leases.size >= (this.opts.localMaxKeys ?? 100_000)) this.dropExpiredLeases(now);
        lease = { units: 0, expiresAt: 0, remaining: 0, nextUnitMs: 0, fullMs: 0, second: Math.floor(now / 1000), count: 0, previous: 0 };
        this.leases.set(s.key, lease);
      }
      const second = Math.floor(now / 1000);
      if (second !== lease.second) {
        lease.previous = second === lease.second + 1 ? lease.count : 0;
        lease.count = 0;
        lease.second = second;
      }
      lease.count++;
      if (lease.expiresAt <= now) lease.units = 0;
      if (lease.units < s.cost) all = false;
    }
    if (!all) return null;
    return steps.map((s) => {
      const lease = this.leases.get(s.key)!;
      lease.units -= s.cost;
      return { allowed: true, remaining: lease.remaining + lease.units, retryAfterMs: 0, nextUnitMs: lease.nextUnitMs, fullMs: lease.fullMs, granted: s.cost };
    });
  }

  /** After Redis answered: what was granted beyond the cost becomes the key's lease. */
  private keepLeases(steps: Step[], outcomes: GcraOutcome[]): GcraOutcome[] {
    const now = Date.now();
    return outcomes.map((o, i) => {
      const s = steps[i]!;
      const lease = this.leases.get(s.key);
      if (!lease || o.granted === 0) return o;
      lease.units = (lease.expiresAt > now ? lease.units : 0) + o.granted - s.cost;
      lease.expiresAt = now + (this.opts.lease?.ttlMs ?? 1000);
      lease.remaining = o.remaining;
      lease.nextUnitMs = o.nextUnitMs;
      lease.fullMs = o.fullMs;
      return { ...o, remaining: o.remaining + lease.units };
    });
  }

  /** Units to take beyond the cost: the key's recent traffic over the horizon, within the bounds. */
  private leaseWant(s: Step): number {
    const opts = this.opts.lease;
    const lease = this.leases.get(s.key);
    if (!opts || !lease || s.budget.limit < (opts.minLimit ?? 100)) return s.cost;
    const perSecond = Math.max(lease.previous, lease.count);
    const extra = Math.min(Math.floor((perSecond * opts.horizonMs) / 1000), Math.floor(s.budget.limit * (opts.maxFraction ?? 0.1)));
    return Math.min(s.budget.limit, s.cost + Math.max(0, extra - (lease.expiresAt > Date.now() ? lease.units : 0)));
  }

  private dropExpiredLeases(now: number): void {
    for (const [key, lease] of this.leases) if (lease.expiresAt <= now && lease.second < Math.floor(now / 1000) - 1) this.leases.delete(key);
    // still full of live keys: the oldest go (their units are dropped, as when they expire)
    for (const key of this.leases.keys()) {
      if (this.leases.size < (this.opts.localMaxKeys ?? 100_000)) break;
      this.leases.delete(key);
    }
  }

  private async inRedis(steps: Step[]): Promise<GcraOutcome[]> {
    // while disconnected, fail at once rather than queue behind reconnect attempts
    if (this.redis.status !== 'ready') throw new Error(`Redis connection is ${this.redis.status}`);
    const args: (string | number)[] = steps.map((s) => s.key);
    for (const s of steps) args.push(s.budget.limit, s.budget.windowSeconds * 1_000_000, s.cost, this.leaseWant(s));
    const command = (this.redis as unknown as Record<string, GcraCommand>)[COMMAND]!.bind(this.redis);
    let timer: NodeJS.Timeout | undefined;
    const reply = await Promise.race([
      command(steps.length, ...args),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (!Array.isArray(reply) || reply.length !== steps.length * 6) throw new Error('unexpected answer of the rate-limit script');
    return steps.map((_, i) => {
      const [allowed, remaining, retryAfterMs, nextUnitMs, fullMs, granted] = (reply as number[]).slice(i * 6, i * 6 + 6).map(Number) as [number, number, number, number, number, number];
      return { allowed: allowed === 1, remaining, retryAfterMs, nextUnitMs, fullMs, granted };
    });
  }

  /** One warning a minute at most, with how many were left out: an outage must not flood the log. */
  private warn(err: unknown, fallback: WhenRedisUnavailable): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_EVERY_MS) {
      this.suppressedWarnings++;
      return;
    }
    this.opts.logger?.warn(
      { err, fallback, similar_since_last_warning: this.suppressedWarnings },
      fallback === 'allow' ? 'rate limits not checked: Redis unavailable; request let through' : 'rate limits checked in this process only: Redis unavailable',
    );
    this.lastWarning = now;
    this.suppressedWarnings = 0;
  }
}
