import { randomUUID } from 'node:crypto';
import type { AgentInfo } from '@agentmon/contracts';
import { buildChunks } from './batch-chunks.js';

/** One accepted request's part of a stream message. */
export interface CoalescedPart {
  source: 'json' | 'line' | 'otlp';
  receivedAt: number;
  agents: AgentInfo[];
  /** the JSON of each point */
  encoded: readonly string[];
  /** an upper bound of the encoded size in bytes (3 × UTF-16 length) */
  bytes: number;
}

/** Publishes the stream messages of one batch and resolves once JetStream stored all of them. */
export type PublishMessages = (messages: { data: Buffer; msgId: string }[]) => Promise<void>;

interface Waiting {
  part: CoalescedPart;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Small accepted requests share stream messages under load. A request is published at once when
 * no publish of its format is under way (so a lone request waits for nothing); requests that arrive
 * while one is under way wait for it and then go out together, as one TelemetryBatch with the
 * agents and points of all of them (split like any batch when larger than a message). Each request
 * is answered only after the message holding it was stored; when that fails, every request in it
 * fails, and nothing of theirs was acknowledged.
 *
 * Every message on the stream costs NATS, the InfluxDB writer, the registry and the alerting
 * evaluator a delivery, an acknowledgement and a transaction or two: at 1,000 requests/s of one or
 * two points each that per-message work was most of the CPU the stack spent (docs/benchmarks.md).
 */
export class PublishCoalescer {
  private readonly waiting = new Map<CoalescedPart['source'], Waiting[]>();
  private readonly busy = new Set<CoalescedPart['source']>();

  constructor(
    private readonly publish: PublishMessages,
    /** largest stream message */
    private readonly maxMessageBytes: () => number,
    /** parts waiting for one source are sent once they hold this many bytes, whatever is under way */
    private readonly maxWaitingBytes = 256 * 1024,
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
      if (!this.busy.has(part.source)) void this.drain(part.source);
      else if (queue.reduce((n, w) => n + w.part.bytes, 0) >= this.maxWaitingBytes) void this.send(part.source, this.take(part.source));
    });
  }

  /** Sends what waits for a source, then whatever arrived meanwhile, until nothing waits. */
  private async drain(source: CoalescedPart['source']): Promise<void> {
    this.busy.add(source);
    try {
      for (let group = this.take(source); group.length > 0; group = this.take(source)) await this.send(source, group);
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
    try {
      const batchId = randomUUID();
      const encoded = group.length === 1 ? group[0]!.part.encoded : group.flatMap((w) => w.part.encoded);
      const chunks = buildChunks(
        { batchId, receivedAt: Math.min(...group.map((w) => w.part.receivedAt)), source, agents: mergeAgents(group.map((w) => w.part.agents)) },
        encoded,
        this.maxMessageBytes(),
      );
      await this.publish(chunks.map((data, i) => ({ data, msgId: `${batchId}:${i}` })));
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
