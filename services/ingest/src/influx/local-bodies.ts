import { Inject, Injectable } from '@nestjs/common';
import { INGEST_CONFIG, type IngestConfig } from '../config.js';

interface Body {
  data: Uint8Array;
  /** the message's de-duplication id: a sequence alone names another message once the stream was made anew */
  msgId: string;
  /** when it was put (epoch ms) */
  at: number;
}

/**
 * The bodies of the lines messages this replica stored in JetStream, by stream sequence, until its
 * InfluxDB writer takes them. The writer's consumer delivers headers only: the body of a message
 * this process accepted is handed over in memory instead of travelling from NATS back to the
 * process that just sent it (for a peak of 5,000-point batches, 66 MiB that NATS delivered and
 * ingest read and copied a second time; docs/benchmarks.md, item 28). A message accepted by another
 * replica, or before a restart, or whose body was dropped here, is read from the stream by its
 * sequence instead.
 *
 * Bounded: at most `WRITER_LOCAL_BODY_BYTES` bytes, none older than `WRITER_LOCAL_BODY_MS` (a body
 * another replica's writer got the message of is never taken here); the oldest go first, and the
 * writer reads those from the stream.
 */
@Injectable()
export class LocalBodies {
  private readonly bodies = new Map<number, Body>();
  private bytes = 0;
  /** publishes under way whose acknowledgement puts a body, by de-duplication id */
  private readonly publishing = new Map<string, Promise<unknown>>();
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;

  constructor(@Inject(INGEST_CONFIG) config: Pick<IngestConfig, 'WRITER_LOCAL_BODY_BYTES' | 'WRITER_LOCAL_BODY_MS'>) {
    this.maxBytes = config.WRITER_LOCAL_BODY_BYTES;
    this.maxAgeMs = config.WRITER_LOCAL_BODY_MS;
  }

  /** bytes held */
  get size(): number {
    return this.bytes;
  }

  /**
   * The publish of the message with de-duplication id `msgId`, under way, whose acknowledgement puts
   * its body: the message can be delivered to the writer before its publisher has read the
   * acknowledgement, so a writer that misses a body first waits for the publish of that id, if this
   * process has one under way (`published`), and reads the stream only otherwise.
   */
  track<T>(msgId: string, publish: Promise<T>): Promise<T> {
    this.publishing.set(msgId, publish);
    const done = () => {
      if (this.publishing.get(msgId) === publish) this.publishing.delete(msgId);
    };
    publish.then(done, done);
    return publish;
  }

  /** Resolves once this process's publish of `msgId`, if one is under way, was acknowledged or failed. */
  async published(msgId: string | undefined): Promise<void> {
    const publish = msgId === undefined ? undefined : this.publishing.get(msgId);
    if (publish !== undefined) await publish.then(
      () => undefined,
      () => undefined,
    );
  }

  /** The body of the lines message JetStream stored as `seq`, with de-duplication id `msgId`. */
  put(seq: number, msgId: string, data: Uint8Array, now = Date.now()): void {
    if (data.length > this.maxBytes) return;
    const held = this.bodies.get(seq);
    if (held !== undefined) {
      // the same message again (a publish retried after a lost acknowledgement) keeps its body
      if (held.msgId === msgId) return;
      this.drop(seq, held);
    }
    this.evict(now, data.length);
    this.bodies.set(seq, { data, msgId, at: now });
    this.bytes += data.length;
  }

  /**
   * The body of `seq`, removed, if it is the message `msgId` (the header the writer was delivered);
   * undefined when this process does not hold it. A body held under the same sequence for another id
   * (from before the stream was deleted and made anew) is dropped, never given.
   */
  take(seq: number, msgId: string | undefined): Uint8Array | undefined {
    const body = this.bodies.get(seq);
    if (body === undefined) return undefined;
    this.drop(seq, body);
    return body.msgId === msgId ? body.data : undefined;
  }

  private drop(seq: number, body: Body): void {
    this.bodies.delete(seq);
    this.bytes -= body.data.length;
  }

  /** Drops the oldest bodies until `incoming` more bytes fit, and every body older than the limit. */
  private evict(now: number, incoming: number): void {
    for (const [seq, body] of this.bodies) {
      if (this.bytes + incoming <= this.maxBytes && now - body.at <= this.maxAgeMs) break;
      this.drop(seq, body);
    }
  }
}
