import type { AgentInfo } from '@agentmon/contracts';

interface Announced {
  /** when the batch that announced the agent was received (epoch ms) */
  at: number;
  /** what the agent said about itself then, beyond its id ('' for nothing) */
  info: string;
}

/**
 * Which agents of an accepted batch its agents message names (`evt.ingest.telemetry.agents.v1`,
 * read by the registry for registration and heartbeats): an agent this replica announced less than
 * `intervalMs` ago, saying the same about itself, is left out. A peak of line-protocol batches
 * brings the same agents again and again, tens of times a second, and the registry read, validated
 * and merged each message's thousand agents only to find nothing new (0.44 µs of CPU per
 * point, docs/benchmarks.md, item 26). The registry's last_seen lags by at most `intervalMs` for it,
 * far below its own write throttle (HEARTBEAT_TIMEOUT_MS / 6).
 *
 * `due` gives the agents to name; `announced` records them once their message was stored, so that
 * a batch JetStream refused leaves nothing recorded and the agents of its retry are named again.
 * Memory: the agents announced in the last two intervals (two maps, the older one dropped whole).
 */
export class AgentAnnouncements {
  private current = new Map<string, Announced>();
  private previous = new Map<string, Announced>();
  private rotatedAt = 0;

  /** `intervalMs` 0: every batch names all of its agents */
  constructor(private readonly intervalMs: number) {}

  /** The agents of a batch received at `at` that its agents message names (the list itself when all of them). */
  due(agents: AgentInfo[], at: number): AgentInfo[] {
    if (this.intervalMs <= 0 || agents.length === 0) return agents;
    this.rotate(at);
    let out: AgentInfo[] | undefined;
    for (let i = 0; i < agents.length; i++) {
      const agent = agents[i]!;
      const last = this.current.get(agent.id) ?? this.previous.get(agent.id);
      const known = last !== undefined && at - last.at < this.intervalMs && last.info === infoOf(agent);
      if (known) out ??= agents.slice(0, i);
      else out?.push(agent);
    }
    return out ?? agents;
  }

  /** The agents named by a batch received at `at`, after JetStream stored its messages. */
  announced(agents: readonly AgentInfo[], at: number): void {
    if (this.intervalMs <= 0) return;
    this.rotate(at);
    for (const agent of agents) this.current.set(agent.id, { at, info: infoOf(agent) });
  }

  /** Every interval the older map goes: what it holds was announced at least an interval ago. */
  private rotate(now: number): void {
    if (now - this.rotatedAt < this.intervalMs) return;
    this.previous = this.current;
    this.current = new Map();
    this.rotatedAt = now;
  }
}

/**
 * What an agent says about itself beyond its id, as a comparable string ('' when nothing: line
 * protocol and OTLP name agents by id only). The fields are read one by one, not iterated: this runs
 * for every agent of every batch, a thousand per peak batch.
 */
function infoOf(agent: AgentInfo): string {
  const { name, type, version, host, region, tags } = agent;
  if (name === undefined && type === undefined && version === undefined && host === undefined && region === undefined && tags === undefined) return '';
  return JSON.stringify([name, type, version, host, region, tags]);
}
