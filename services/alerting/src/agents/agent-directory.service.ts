import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { AppError } from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { ALERTING_CONFIG, type AlertingConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';

/** What alerting needs to know about an agent: its tags and groups (for rule scopes). */
export interface AgentFacts {
  id: string;
  tags: Record<string, string>;
  groups: string[];
  /** false when the registry does not know the agent (yet): it then has no tags and no groups */
  registered: boolean;
}

const MAX_ENTRIES = 10_000;
/** how long a failed lookup is remembered */
const SHORT_TTL_MS = 5_000;
/** how long an agent the registry does not know is remembered (it registers new agents within moments) */
const UNKNOWN_TTL_MS = 1_000;
const LOOKUP_TIMEOUT_MS = 2_000;

/**
 * Agents as the registry knows them, fetched with 'rpc.registry.agent.get.v1' and kept briefly
 * (AGENT_CACHE_TTL_MS) so that a busy agent costs one request per period, not one per batch. The
 * cache is only a cache: every replica can rebuild it from the registry.
 */
@Injectable()
export class AgentDirectory {
  private readonly cache = new Map<string, { facts: AgentFacts; expires: number }>();

  constructor(
    private readonly rpc: RpcClient,
    @Inject(ALERTING_CONFIG) private readonly config: AlertingConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The agent's tags and groups. An agent the registry does not know yet (the registry registers it
   * from the same telemetry, possibly a moment later) has no tags and no groups: the points the
   * evaluator reads do not carry what the agent says about itself. When the registry cannot be
   * asked, the last answer is reused however old, so that evaluation goes on during a registry
   * outage (tag and group scopes then miss agents the replica has never seen); the failure is
   * remembered briefly so that a batch does not wait for one timeout per agent.
   */
  async get(agentId: string): Promise<AgentFacts> {
    const now = Date.now();
    const hit = this.cache.get(agentId);
    if (hit && hit.expires > now) return hit.facts;
    let facts: AgentFacts;
    let ttl = this.config.AGENT_CACHE_TTL_MS;
    try {
      const agent = await this.rpc.request('rpc.registry.agent.get.v1', { id: agentId }, { timeoutMs: LOOKUP_TIMEOUT_MS });
      facts = { id: agent.id, tags: agent.tags, groups: agent.groups, registered: true };
    } catch (err) {
      if (err instanceof AppError && err.code === 'not_found') {
        ttl = Math.min(ttl, UNKNOWN_TTL_MS);
        facts = { id: agentId, tags: {}, groups: [], registered: false };
      } else {
        ttl = Math.min(ttl, SHORT_TTL_MS);
        this.logger.warn({ err, agent_id: agentId, stale: Boolean(hit) }, 'registry lookup failed; using what is known');
        facts = hit?.facts ?? { id: agentId, tags: {}, groups: [], registered: false };
      }
    }
    this.remember(agentId, facts, now + ttl);
    return facts;
  }

  /** Makes the next lookup of an agent ask the registry (e.g. when its status changed). */
  expire(agentId: string): void {
    const hit = this.cache.get(agentId);
    if (hit) hit.expires = 0;
  }

  private remember(agentId: string, facts: AgentFacts, expires: number): void {
    this.cache.delete(agentId);
    if (this.cache.size >= MAX_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    // kept past expiry: an expired entry is refreshed on next use, and serves while the registry is down
    this.cache.set(agentId, { facts, expires });
  }
}
