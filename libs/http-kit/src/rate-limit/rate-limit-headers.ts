import type { RateLimitBudget, RateLimitDecision } from './rate-limiter.js';

export const RATE_LIMIT_POLICY_HEADER = 'RateLimit-Policy';
export const RATE_LIMIT_HEADER = 'RateLimit';

/**
 * The header fields of draft-ietf-httpapi-ratelimit-headers (-08 and later), one list item per
 * budget the request was charged against:
 *
 *   RateLimit-Policy: "api-user";q=1200;w=60, "api-ip";q=2400;w=60
 *   RateLimit: "api-user";r=1199;t=1, "api-ip";r=2399;t=1
 *
 * q/w: the budget (units per window, seconds); r: units left after this request; t: seconds until
 * at least one more unit is available (0 when the budget is full). Budgets are GCRA, so they refill
 * continuously (one unit every w/q seconds), not all at once at the end of a window. On a 429,
 * the refusing budget shows r=0 and t equal to Retry-After.
 */
export function rateLimitHeaders(decision: RateLimitDecision): Record<typeof RATE_LIMIT_POLICY_HEADER | typeof RATE_LIMIT_HEADER, string> | undefined {
  if (decision.outcomes.length === 0) return undefined;
  let policy = '';
  let state = '';
  for (const o of decision.outcomes) {
    const sep = policy === '' ? '' : ', ';
    policy += sep + policyItem(o.budget);
    state += `${sep}"${o.budget.name}";r=${o.remaining};t=${Math.ceil(o.nextUnitMs / 1000)}`;
  }
  return { [RATE_LIMIT_POLICY_HEADER]: policy, [RATE_LIMIT_HEADER]: state };
}

/** A budget's RateLimit-Policy item; budgets are frozen, so each is written once. */
const policyItems = new WeakMap<RateLimitBudget, string>();
function policyItem(budget: RateLimitBudget): string {
  let item = policyItems.get(budget);
  if (item === undefined) {
    item = `"${budget.name}";q=${budget.limit};w=${budget.windowSeconds}`;
    policyItems.set(budget, item);
  }
  return item;
}

/** Response header names a browser needs to be allowed to read (CORS `exposedHeaders`). */
export const RATE_LIMIT_EXPOSED_HEADERS = [RATE_LIMIT_POLICY_HEADER, RATE_LIMIT_HEADER, 'Retry-After'] as const;
