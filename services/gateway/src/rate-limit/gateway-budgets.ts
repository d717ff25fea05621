import { createHash } from 'node:crypto';
import type { Principal } from '@agentmon/contracts';
import { clientAddressKey, rateLimitBudget, type RateLimitBudget, type RateLimitCharge } from '@agentmon/http-kit';
import type { GatewayConfig } from '../config.js';

/** The gateway's budgets, from configuration. An API budget configured as 0 is off. */
export interface GatewayBudgets {
  apiUser?: RateLimitBudget;
  apiKey?: RateLimitBudget;
  apiIp?: RateLimitBudget;
  loginUser: RateLimitBudget;
  loginIp: RateLimitBudget;
}

export function gatewayBudgets(config: GatewayConfig): GatewayBudgets {
  const api = (name: string, limit: number) => (limit > 0 ? rateLimitBudget(name, limit, config.API_RATE_WINDOW_S) : undefined);
  const apiUser = api('api-user', config.API_MAX_PER_USER);
  const apiKey = api('api-key', config.API_MAX_PER_KEY);
  const apiIp = api('api-ip', config.API_MAX_PER_IP);
  return {
    ...(apiUser ? { apiUser } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(apiIp ? { apiIp } : {}),
    loginUser: rateLimitBudget('login-user', config.LOGIN_MAX_PER_USER, config.LOGIN_RATE_WINDOW_S),
    loginIp: rateLimitBudget('login-ip', config.LOGIN_MAX_PER_IP, config.LOGIN_RATE_WINDOW_S),
  };
}

/**
 * What an API request is charged: its user (access token) or its API key, once authenticated, and
 * always its client address, so requests without (valid) credentials are limited too.
 */
export function apiCharges(budgets: GatewayBudgets, principal: Principal | undefined, ip: string | undefined): RateLimitCharge[] {
  const charges: RateLimitCharge[] = [];
  if (principal?.kind === 'user' && budgets.apiUser) charges.push({ budget: budgets.apiUser, key: principal.user_id });
  if (principal?.kind === 'api_key' && budgets.apiKey) charges.push({ budget: budgets.apiKey, key: principal.id });
  if (budgets.apiIp) charges.push({ budget: budgets.apiIp, key: clientAddressKey(ip) });
  return charges;
}

/**
 * What a login attempt is charged: its username (whoever tries it, from wherever: guessing one
 * account's password from many addresses) and its client address (one address trying many
 * accounts). Usernames are hashed so that Redis holds no list of who tried to log in; case and
 * surrounding space do not make a new budget.
 */
export function loginCharges(budgets: GatewayBudgets, username: string, ip: string | undefined): RateLimitCharge[] {
  const user = createHash('sha256').update(`login:${username.trim().normalize('NFKC').toLowerCase()}`).digest('base64url');
  return [
    { budget: budgets.loginUser, key: user },
    { budget: budgets.loginIp, key: clientAddressKey(ip) },
  ];
}
