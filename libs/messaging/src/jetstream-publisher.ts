import { ClosedConnectionError, TimeoutError, createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { JetStreamApiError, type PubAck } from '@nats-io/jetstream';

/** How long a publish waits for JetStream's acknowledgement (the JetStream client's default). */
export const PUBLISH_TIMEOUT_MS = 5000;
/** NATS answers a request to a subject nobody listens to with an empty message of status 503. */
const NO_RESPONDERS = 503;

interface Waiting {
  resolve: (ack: PubAck) => void;
  reject: (err: Error) => void;
  deadline: number;
  subject: string;
}

/**
 * No stream listens to the subject (NATS answered "no responders"), named as the JetStream client
 * names it (its own class is not part of the package's public API).
 */
export class JetStreamNotEnabled extends Error {
  override name = 'JetStreamNotEnabled';
}

/**
 * Publishes to JetStream and resolves with its acknowledgement, as `js.publish` does, with the same
 * errors (JetStreamApiError when JetStream refuses the message, JetStreamNotEnabled when no stream
 * listens to the subject, the NATS client's TimeoutError after `timeoutMs`), but without a request object per
 * message: one inbox subscription takes every reply, a map holds the waiting publishes, and one
 * timer expires the late ones. `js.publish` goes through `nc.request`, which builds two or three
 * Error objects with stack traces per message, one of them after every successful reply
 * (`RequestOne.cancel`); at 1,000 requests/s that was 3 % of ingest's CPU (docs/benchmarks.md,
 * item 35).
 */
export class JetStreamPublisher {
  private readonly prefix: string;
  private readonly sub: Subscription;
  private readonly waiting = new Map<string, Waiting>();
  private readonly decoder = new TextDecoder();
  private next = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = PUBLISH_TIMEOUT_MS,
  ) {
    this.prefix = `${createInbox()}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, { callback: (err, msg) => this.answered(err, msg) });
    void nc.closed().then(() => this.failAll(new ClosedConnectionError()));
  }

  /** Resolves once JetStream stored the message (or had stored one of the same `Nats-Msg-Id`: `duplicate`). */
  publish(subject: string, data: Uint8Array, headers: MsgHdrs): Promise<PubAck> {
    if (this.sub.isClosed()) return Promise.reject(new ClosedConnectionError());
    const token = String(++this.next);
    return new Promise<PubAck>((resolve, reject) => {
      this.waiting.set(token, { resolve, reject, deadline: Date.now() + this.timeoutMs, subject });
      try {
        this.nc.publish(subject, data, { reply: this.prefix + token, headers });
      } catch (err) {
        this.waiting.delete(token);
        reject(err as Error);
        return;
      }
      this.sweeper ??= setInterval(() => this.expire(), Math.max(10, Math.min(1000, this.timeoutMs / 4))).unref();
    });
  }

  /** Publishes waiting for their acknowledgement. */
  get pending(): number {
    return this.waiting.size;
  }

  private answered(err: Error | null, msg: Msg): void {
    // the subscription itself failed (a permission violation): nothing more will be answered here
    if (err) return this.failAll(err);
    const token = msg.subject.slice(this.prefix.length);
    const w = this.waiting.get(token);
    if (!w) return; // already expired
    this.waiting.delete(token);
    if (msg.data.length === 0 && msg.headers?.code === NO_RESPONDERS) {
      return w.reject(new JetStreamNotEnabled(`jetstream is not enabled: no responders for ${w.subject} (no stream listens to it)`));
    }
    let ack: Partial<PubAck> & { error?: { code: number; err_code: number; description: string } };
    try {
      ack = JSON.parse(this.decoder.decode(msg.data)) as typeof ack;
    } catch {
      return w.reject(new Error(`JetStream answered a publish to ${w.subject} with something that is not JSON`));
    }
    if (ack.error) return w.reject(new JetStreamApiError(ack.error as never));
    if (!ack.stream || typeof ack.seq !== 'number') return w.reject(new Error('invalid ack response'));
    w.resolve({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true, ...(ack.domain ? { domain: ack.domain } : {}) });
  }

  /** Fails the publishes past their deadline (the map is in publish order, so in deadline order). */
  private expire(): void {
    const now = Date.now();
    for (const [token, w] of this.waiting) {
      if (w.deadline > now) break;
      this.waiting.delete(token);
      w.reject(new TimeoutError({ cause: new Error(`JetStream did not acknowledge a publish to ${w.subject} within ${this.timeoutMs} ms`) }));
    }
    if (this.waiting.size === 0) this.stopSweeper();
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    this.stopSweeper();
  }

  private stopSweeper(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}
