import type { AgentInfo } from '@agentmon/contracts';

type Source = 'json' | 'line' | 'otlp';

interface Announced {
  /** when the batch that last named the agent was received (epoch ms) */
  at: number;
  /** what the agent said about itself then, beyond its id ('' for nothing) */
  info: string;
}

/** Heartbeats taken for one agents message: agents of one source, and the earliest time one of them was received. */
export interface Heartbeats {
  source: Source;
  receivedAt: number;
  agents: AgentInfo[];
}

/**
 * How long this replica remembers an agent it named, so that the agent's next batches are heartbeats
 * (sent apart, see below) rather than announcements that go with the batch. Memory: the agents named in
 * the last one or two of these windows (two maps, the older one dropped whole).
 */
export const KNOWN_FOR_MS = 10 * 60_000;
/**
 * Agents one map holds at most: a fuller map is rotated early, so that memory stays bounded (two maps,
 * about 150 bytes an agent with its id: some 30 MB; a throwaway `node --expose-gc` script measured 92
 * bytes of heap per map entry and 67 per id of 18 characters) however large the fleet. An agent
 * forgotten early is only named with its next batch again.
 */
export const MAX_KNOWN = 100_000;

/**
 * Which agents of an accepted batch are named in an agents message (`evt.ingest.telemetry.agents.v1`,
 * read by the registry for registration and heartbeats), and when.
 *
 * - An agent this replica has not named in the last `knownForMs`, or that says something new about
 *   itself, is named in the batch's own agents message, stored before the request is answered: once a
 *   request is acknowledged, the registry will learn of its agents even if ingest dies the next moment.
 * - An agent named less than `intervalMs` ago, saying the same, is not named at all: a peak of
 *   line-protocol batches brings the same agents tens of times a second (docs/benchmarks.md, item 26).
 * - Any other agent, one this replica named before that only comes back, is a heartbeat: it waits, at
 *   most `intervalMs`, for an agents message of its own with the other heartbeats of that time
 *   (`takeHeartbeats`). At 1,000 small requests a second, each batch had an agents message of its own:
 *   the registry then took a delivery, an acknowledgement and a merge per batch, and NATS stored twice
 *   as many messages (item 39). A heartbeat lost with the replica that held it costs the agent
 *   at most that much of its last_seen, which its next batch brings again.
 *
 * `due` gives the agents the batch's message names; `announced` records them once their message was
 * stored, so that a batch JetStream refused leaves nothing recorded and the agents of its retry are
 * named again. Heartbeats are recorded when queued; one whose message fails is put back
 * (`returnHeartbeats`). Memory: the agents named in the last two `knownForMs` (at most 2 × `maxKnown`),
 * and one queued heartbeat per agent.
 */
export class AgentAnnouncements {
  private current = new Map<string, Announced>();
  private previous = new Map<string, Announced>();
  private rotatedAt = 0;
  private readonly queued = new Map<Source, Map<string, { agent: AgentInfo; at: number }>>();

  /** `intervalMs` 0: every batch names all of its agents, and nothing waits */
  constructor(
    private readonly intervalMs: number,
    private readonly knownForMs = Math.max(KNOWN_FOR_MS, 2 * intervalMs),
    private readonly maxKnown = MAX_KNOWN,
  ) {}

  /**
   * The agents of a batch received at `at` that its agents message names (the list itself when all of
   * them). With `heartbeatsApart` false (the replica is shutting down) a heartbeat is named with its
   * batch too, as an agent not seen for a while is.
   */
  due(agents: AgentInfo[], at: number, source: Source, heartbeatsApart = true): AgentInfo[] {
    if (this.intervalMs <= 0 || agents.length === 0) return agents;
    this.rotate(at);
    let out: AgentInfo[] | undefined;
    for (let i = 0; i < agents.length; i++) {
      const agent = agents[i]!;
      const info = infoOf(agent);
      const last = this.current.get(agent.id) ?? this.previous.get(agent.id);
      const known = last !== undefined && last.info === info;
      const recent = known && at - last.at < this.intervalMs;
      const heartbeat = known && !recent && heartbeatsApart;
      if (heartbeat) this.queue(agent, info, at, source);
      if (recent || heartbeat) {
        out ??= agents.slice(0, i);
        continue;
      }
      // named with its batch: a heartbeat still queued would be stored after, saying what it said before
      if (this.queued.size > 0) for (const [source, byId] of this.queued) if (byId.delete(agent.id) && byId.size === 0) this.queued.delete(source);
      out?.push(agent);
    }
    return out ?? agents;
  }

  /** The agents named by a batch received at `at`, after JetStream stored its messages. */
  announced(agents: readonly AgentInfo[], at: number): void {
    if (this.intervalMs <= 0) return;
    this.rotate(at);
    for (const agent of agents) this.remember(agent.id, at, infoOf(agent));
  }

  get heartbeatsQueued(): boolean {
    return this.queued.size > 0;
  }

  /** The queued heartbeats of one source (the one queued longest), no longer queued; undefined when none is. */
  takeHeartbeats(): Heartbeats | undefined {
    const first = this.queued.entries().next();
    if (first.done) return undefined;
    const [source, byId] = first.value;
    this.queued.delete(source);
    let receivedAt = Infinity;
    const agents: AgentInfo[] = [];
    for (const { agent, at } of byId.values()) {
      agents.push(agent);
      if (at < receivedAt) receivedAt = at;
    }
    return { source, receivedAt, agents };
  }

  /**
   * Heartbeats whose message was not stored, queued again: not those of an agent queued again since,
   * nor of one that said something new about itself since (its batch named it).
   */
  returnHeartbeats(taken: Heartbeats): void {
    for (const agent of taken.agents) {
      if (this.queued.get(taken.source)?.has(agent.id)) continue;
      const last = this.current.get(agent.id) ?? this.previous.get(agent.id);
      if (last !== undefined && last.info !== infoOf(agent)) continue;
      this.queueEntry(taken.source).set(agent.id, { agent, at: taken.receivedAt });
    }
  }

  private queue(agent: AgentInfo, info: string, at: number, source: Source): void {
    const byId = this.queueEntry(source);
    const waiting = byId.get(agent.id);
    // the earliest time counts: the message claims no later last_seen than every agent in it had
    byId.set(agent.id, { agent, at: waiting ? Math.min(waiting.at, at) : at });
    this.remember(agent.id, at, info);
  }

  private remember(id: string, at: number, info: string): void {
    this.current.set(id, { at, info });
    if (this.current.size >= this.maxKnown) this.rotate(at, true);
  }

  private queueEntry(source: Source): Map<string, { agent: AgentInfo; at: number }> {
    let byId = this.queued.get(source);
    if (!byId) this.queued.set(source, (byId = new Map()));
    return byId;
  }

  /** Every `knownForMs` (or once the newer map is full) the older map goes: what it holds was named at least that long ago. */
  private rotate(now: number, full = false): void {
    if (!full && now - this.rotatedAt < this.knownForMs) return;
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
