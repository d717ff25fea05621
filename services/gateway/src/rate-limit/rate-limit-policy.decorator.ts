import { SetMetadata } from '@nestjs/common';

export const RATE_LIMIT_POLICY = 'agentmon:rate-limit-policy';

/**
 * Which budgets a route draws on. Every route draws on the API budgets (`api`) unless it says
 * otherwise: `login` routes are charged by their handler against the login budgets (per username and
 * per address, which needs the parsed body), and `exempt` routes (probes, Prometheus) are not limited.
 */
export type RateLimitPolicyName = 'api' | 'login' | 'exempt';

export const RateLimitPolicy = (policy: RateLimitPolicyName) => SetMetadata(RATE_LIMIT_POLICY, policy);
