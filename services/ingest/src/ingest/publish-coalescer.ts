import { randomUUID } from 'node:crypto';
import type { AgentInfo } from '@agentmon/contracts';
import { batchMessages, joinPieces, type StreamMessage } from './batch-chunks.js';

/** One accepted request's part of the stream messages. */
export interface CoalescedPart {
  source: 'json' | 'line' | 'otlp';
  receivedAt: number;
  agents: AgentInfo[];
  /** the request's points as lines of the stream's normal form (UTF-8, `\n` between lines; empty without points) */
  lines: Uint8Array;
}

/** Publishes the stream messages of one batch and resolves once JetStream stored all of them. */
export type PublishMessages = (messages: StreamMessage[]) => Promise<void>;

interface Waiting {
  part: CoalescedPart;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Small accepted requests share stream messages under load. A request is published at once when
 * no publish of its format is under way and none began in the last `lingerMs` (so a lone request
 * waits for nothing); one that arrives within `lingerMs` of the last publish's start waits for the
 * rest of that time, gathering; requests that arrive while a publish is under way wait for it (and
 * `lingerMs` more, gathering). Then they go out together, as one batch: one lines message with
 * the lines of all of them (more when they exceed a message; a request's lines are never cut) and one
 * agents message with their agents merged. Each request
 * is answered only after the message holding it was stored; when that fails, every request in it
 * fails, and nothing of theirs was acknowledged.
 *
 * Every message on the stream costs NATS, the InfluxDB writer, the registry and the alerting
 * evaluator a delivery, an acknowledgement and a transaction or two: at 1,000 requests/s of one or
 * two points each that per-message work was most of the CPU the stack spent (docs/benchmarks.md).
 */
export class PublishCoalescer {
  private readonly waiting = new Map<CoalescedPart['source'], Waiting[]>();
  /** sources with a publish under way, or a group gathering */
  private readonly busy = new Set<CoalescedPart['source']>();
  /** when the last publish of each source began */
  private readonly lastSend = new Map<CoalescedPart['source'], number>();

  constructor(
    private readonly publish: PublishMessages,
    /** largest stream message */
    private readonly maxMessageBytes: () => number,
    /** parts waiting for one source are sent once they hold this many bytes, whatever is under way */
    private readonly maxWaitingBytes = 256 * 1024,
    /**
     * under load, how long a group gathers: after a publish it waited for, or from the start of the
     * last publish (so at most one publish of a format begins in any `lingerMs`): a few ms more
     * latency for several times fewer stream messages
     */
    private readonly lingerMs = 0,
  ) {}

  /** Resolves once the message holding the part is stored in JetStream. */
  submit(part: CoalescedPart): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let queue = this.waiting.get(part.source);
      if (!queue) {
        queue = [];
        this.waiting.set(part.source, queue);
      }
      queue.push({ part, resolve, reject });
      if (!this.busy.has(part.source)) this.start(part.source);
      else if (queue.reduce((n, w) => n + w.part.lines.length, 0) >= this.maxWaitingBytes) void this.send(part.source, this.take(part.source));
    });
  }

  /** Drains a source now, or once `lingerMs` has passed since its last publish began. */
  private start(source: CoalescedPart['source']): void {
    const wait = this.lingerMs - (performance.now() - (this.lastSend.get(source) ?? -Infinity));
    if (wait <= 0) {
      void this.drain(source);
      return;
    }
    this.busy.add(source);
    setTimeout(() => void this.drain(source), wait);
  }

  /** Sends what waits for a source, then whatever arrived meanwhile, until nothing waits. */
  private async drain(source: CoalescedPart['source']): Promise<void> {
    this.busy.add(source);
    try {
      for (let group = this.take(source); group.length > 0; group = this.take(source)) {
        await this.send(source, group);
        // more arrived meanwhile: this is load, so let the next group gather a little longer
        if (this.lingerMs > 0 && (this.waiting.get(source)?.length ?? 0) > 0) await sleep(this.lingerMs);
      }
    } finally {
      this.busy.delete(source);
    }
  }

  private take(source: CoalescedPart['source']): Waiting[] {
    const queue = this.waiting.get(source) ?? [];
    this.waiting.set(source, []);
    return queue;
  }

  private async send(source: CoalescedPart['source'], group: Waiting[]): Promise<void> {
    if (group.length === 0) return;
    this.lastSend.set(source, performance.now());
    try {
      const max = this.maxMessageBytes();
      const header = { batchId: randomUUID(), receivedAt: Math.min(...group.map((w) => w.part.receivedAt)), source, agents: mergeAgents(group.map((w) => w.part.agents)) };
      await this.publish(batchMessages(header, joinPieces(group.map((w) => w.part.lines), max), max));
      for (const w of group) w.resolve();
    } catch (err) {
      for (const w of group) w.reject(err);
    }
  }
}

/** The agents of several requests; an agent named twice keeps what it said last. */
function mergeAgents(lists: AgentInfo[][]): AgentInfo[] {
  if (lists.length === 1) return lists[0]!;
  const byId = new Map<string, AgentInfo>();
  for (const list of lists) for (const a of list) byId.set(a.id, byId.has(a.id) ? { ...byId.get(a.id), ...a } : a);
  return [...byId.values()];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
