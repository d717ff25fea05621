import type { AgentInfo, AgentStatus } from '@agentmon/contracts';

/** What this replica last wrote for an agent. */
interface Written {
  status: AgentStatus;
  /** the last_seen this replica stored (the stored value is this or later) */
  seenAt: number;
  /** what the agent said about itself then ('' when it said nothing but its id) */
  info: string;
}

/** Agents remembered at most; the oldest written is forgotten first (it then costs one write). */
const MAX_AGENTS = 200_000;

/**
 * Decides which agents of accepted telemetry need a database write. An agent this replica wrote
 * as online (or degraded) less than `throttleMs` ago, whose telemetry says nothing new about it,
 * needs none: the stored last_seen then lags by less than the throttle, which the offline sweep
 * tolerates. Everything else is written at once: agents this replica has not written (new ones
 * among them), offline agents (they come back online), new info or tags.
 *
 * Per replica and in memory only, so it may only ever skip writes, never invent state: whatever
 * another replica or an operator changed is forgotten here when its status event arrives (status
 * changes), or at the latest when the throttle expires (info edited through the API, a deletion).
 */
export class HeartbeatThrottle {
  private readonly written = new Map<string, Written>();

  constructor(private readonly throttleMs: number) {}

  /** Whether telemetry received at `at` with this agent info must be written. */
  needsWrite(info: AgentInfo, at: number): boolean {
    const known = this.written.get(info.id);
    if (!known || known.status === 'offline') return true;
    if (at - known.seenAt >= this.throttleMs) return true;
    const said = infoKey(info);
    return said !== '' && said !== known.info;
  }

  /** After a commit: what was written for the agent. */
  wrote(info: AgentInfo, status: AgentStatus, at: number): void {
    const said = infoKey(info);
    const before = this.written.get(info.id);
    this.written.delete(info.id);
    if (this.written.size >= MAX_AGENTS) {
      const oldest = this.written.keys().next().value;
      if (oldest !== undefined) this.written.delete(oldest);
    }
    this.written.set(info.id, {
      status,
      seenAt: Math.max(at, before?.seenAt ?? -Infinity),
      // an agent that said only its id keeps what it said before
      info: said === '' && before ? before.info : said,
    });
  }

  /** A status event (of any replica): what is remembered about an agent whose status differs is dropped. */
  statusIs(agentId: string, status: AgentStatus): void {
    if (this.written.get(agentId)?.status !== status) this.written.delete(agentId);
  }

  forget(agentId: string): void {
    this.written.delete(agentId);
  }

  /** Events may have been missed: nothing remembered can be trusted. */
  forgetAll(): void {
    this.written.clear();
  }

  get size(): number {
    return this.written.size;
  }
}

/** What an agent said about itself, as a comparable key; '' when it said nothing but its id. */
export function infoKey(info: AgentInfo): string {
  for (const k in info) if (k !== 'id' && info[k as keyof AgentInfo] !== undefined) return JSON.stringify(info);
  return '';
}
