import { hash as digest } from 'node:crypto';
import { clientAddressKey, rateLimitBudget, type RateLimitBudget, type RateLimitCharge } from '@agentmon/http-kit';
import type { IngestConfig } from '../config.js';

/** The ingest port's budgets, from configuration; a budget configured as 0 is off. */
export interface IngestBudgets {
  key?: RateLimitBudget;
  ip?: RateLimitBudget;
}

export function ingestBudgets(config: IngestConfig): IngestBudgets {
  const budget = (name: string, limit: number) => (limit > 0 ? rateLimitBudget(name, limit, config.INGEST_RATE_WINDOW_S) : undefined);
  const key = budget('ingest-key', config.INGEST_MAX_PER_KEY);
  const ip = budget('ingest-ip', config.INGEST_MAX_PER_IP);
  return { ...(key ? { key } : {}), ...(ip ? { ip } : {}) };
}

/**
 * What one request to the ingest port is charged: the API key it presents and its client address.
 * The key's budget is kept under a hash of the key as presented, so it can be charged before the key
 * is verified (and before the body is read): a valid key is one budget, and a wrong or revoked key
 * that keeps knocking has a budget of its own. The hash is domain-separated, so Redis holds nothing
 * that matches what auth stores for the key.
 */
export function ingestCharges(budgets: IngestBudgets, apiKey: string | undefined, ip: string | undefined): RateLimitCharge[] {
  const charges: RateLimitCharge[] = [];
  if (apiKey && budgets.key) charges.push({ budget: budgets.key, key: digest('sha256', `agentmon-rate-limit:${apiKey}`, 'base64url') });
  if (budgets.ip) charges.push({ budget: budgets.ip, key: clientAddressKey(ip) });
  return charges;
}
