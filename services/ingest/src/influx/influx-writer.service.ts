import { isUtf8 } from 'node:buffer';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { STREAMS, type EventSubject } from '@agentmon/contracts';
import { EventBus } from '@agentmon/messaging';
import { INGEST_CONFIG, type IngestConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { INGEST_METRICS, type IngestMetrics } from '../stats/ingest-metrics.js';
import { InfluxClient, InfluxError } from './influx.client.js';
import { InfluxSchemaService } from './influx-schema.service.js';
import { LocalBodies } from './local-bodies.js';

/** the writer's durable consumer: headers only, the bodies come from LocalBodies or are read from the stream */
export const WRITER_DURABLE = 'ingest-influx-headers';
/**
 * The writer's durable consumer before it took bodies from memory: it delivered them (an older
 * writer reads them, and would take a headers-only message for an empty one and terminate it, hence
 * a new durable). The new one starts where it had acknowledged; it is deleted once drained or once
 * no older replica reads it (WRITER_DURABLE then covers everything it had left).
 */
export const PREVIOUS_WRITER_DURABLE = 'ingest-influx-lines';
/** the writer's durable consumer while the stream carried JSON batches (evt.ingest.telemetry.batch.v1); deleted at start */
export const FORMER_WRITER_DURABLE = 'ingest-influx-writer';
/** bodies read from the stream at once (messages this process did not accept) */
const READS_AHEAD = 32;
const SUBJECT = 'evt.ingest.telemetry.lines.v1' satisfies EventSubject;
const NS_PER_MS = 1_000_000;
const LF = 10;
const NEWLINE = new Uint8Array([LF]);
/**
 * Stream messages fetched ahead of processing: about PREFETCH_BYTES when every message has the
 * server's max_payload, at least 8 and at most 256 messages. Counted in messages, not bytes: a pull
 * with `max_bytes` whose budget is smaller than the next message is ended by the server (409 Message
 * Size Exceeds MaxBytes) and the client then waits for missed heartbeats (~30 s) before pulling
 * again, so one large batch after many small ones stalled the writer for half a minute.
 */
const PREFETCH_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
function prefetchMessages(maxPayload: number | undefined): number {
  return Math.min(256, Math.max(8, Math.floor(PREFETCH_BYTES / (maxPayload || DEFAULT_MAX_PAYLOAD))));
}

/** Lines in a message of the stream's normal form (a newline inside a string field counts too: an estimate then). */
export function countLines(data: Uint8Array): number {
  let n = 1;
  for (let i = data.indexOf(LF); i !== -1; i = data.indexOf(LF, i + 1)) n++;
  return n;
}

/** A stream message with its body (delivered, handed over in memory, or read from the stream). */
interface Entry {
  msg: JsMsg;
  data: Uint8Array;
}

/** Messages whose lines are written together. */
interface Buffered {
  entries: Entry[];
  lines: number;
}

/**
 * Moves telemetry from JetStream into InfluxDB. The stream carries line protocol that ingest has
 * checked and put in its normal form (`evt.ingest.telemetry.lines.v1`, timestamps in ms), so the
 * writer neither decodes nor encodes: a durable consumer shared by all replicas (explicit acks,
 * headers only: the body of a message this replica accepted is handed over in memory, LocalBodies,
 * any other is read from the stream by its sequence) feeds a buffer of messages, and their bytes,
 * joined by `\n`, are one InfluxDB write
 * (`precision=ms`) once they hold WRITE_BATCH_SIZE lines or after WRITE_FLUSH_MS (a message is never
 * cut, so a write holds WRITE_BATCH_SIZE lines plus at most one message). The messages of a write
 * are acknowledged only after InfluxDB answered 204; when InfluxDB fails they are redelivered later
 * (nak with backoff) and the writer pauses, so an InfluxDB outage loses nothing. When InfluxDB
 * refuses part of a write for good (400: a type conflict, a line it cannot parse), each of its
 * messages is written alone, and those refused again are terminated. Writing a point twice is
 * harmless: InfluxDB keeps one value per series and timestamp.
 */
@Injectable()
export class InfluxWriterService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private buffer: Buffered = { entries: [], lines: 0 };
  private timer: NodeJS.Timeout | undefined;
  /** InfluxDB writes in flight (at most WRITE_CONCURRENCY started by a full buffer) */
  private readonly writes = new Set<Promise<void>>();
  /** bodies being read from the stream */
  private readonly reads = new Set<Promise<void>>();
  private failures = 0;
  private pausedUntil = 0;
  private stopped = false;
  private signalStop!: () => void;
  private readonly stopSignal = new Promise<void>((r) => (this.signalStop = r));
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private formerDurableGone = false;
  private previousDurableGone = false;
  private retireTimer: NodeJS.Timeout | undefined;
  /** the previous durable at the last look, when no replica read it then */
  private previousLook: { delivered: number; at: number } | undefined;

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(InfluxClient) private readonly influx: InfluxClient,
    @Inject(InfluxSchemaService) private readonly schema: InfluxSchemaService,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    @Inject(INGEST_METRICS) private readonly metrics: IngestMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(LocalBodies) private readonly bodies: LocalBodies,
  ) {}

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.signalStop();
    clearInterval(this.retireTimer);
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    // finish the batch in hand and the writes in flight; what fails here is redelivered to another replica
    await Promise.all([...this.reads]);
    await this.flush();
    await Promise.all([...this.writes]);
  }

  private async run(): Promise<void> {
    // The durable consumer exists from the start, also while InfluxDB is not migrated yet, so its
    // backlog (what waits to be written) is visible to the backpressure checks of every replica.
    while (!this.stopped) {
      try {
        await this.ensureConsumer();
        break;
      } catch (err) {
        this.logger.warn({ err }, 'InfluxDB writer cannot create its consumer yet; retrying');
        await Promise.race([sleep(1000), this.stopSignal]);
      }
    }
    await Promise.race([this.schema.ready, this.stopSignal]);
    while (!this.stopped) {
      try {
        const consumer = await this.ensureConsumer();
        // a deleted stream or consumer ends the iteration, so the loop creates them again
        this.messages = await consumer.consume({ max_messages: prefetchMessages(this.bus.nc.info?.max_payload), abort_on_missing_resource: true });
        if (this.stopped) break;
        this.logger.info({ durable: WRITER_DURABLE }, 'InfluxDB writer consuming telemetry');
        for await (const msg of this.messages) {
          await this.accept(msg);
          if (this.stopped) break;
        }
      } catch (err) {
        if (this.stopped) break;
        this.logger.warn({ err }, 'InfluxDB writer consumer interrupted; resuming');
        await sleep(1000);
      }
    }
  }

  private async ensureConsumer() {
    const stream = STREAMS.TELEMETRY.name;
    const config = {
      durable_name: WRITER_DURABLE,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      // one subject: `filter_subject` works on every NATS 2.x (`filter_subjects` needs 2.10)
      filter_subject: SUBJECT,
      // the body comes from LocalBodies, or from the stream when another process accepted it
      headers_only: true,
      // enough unacknowledged messages for a full write of small batches, with one in flight
      max_ack_pending: 20_000,
      // how long a message fetched by a replica that died waits before another replica gets it
      ack_wait: this.config.WRITER_ACK_WAIT_MS * NS_PER_MS,
    };
    // the stream may have been deleted while the service runs; the consumer needs it
    await this.bus.ensureStreams(['TELEMETRY']);
    // the consumer of the JSON batches this version no longer publishes goes once an older writer has
    // written all of them (during a rolling upgrade older replicas still drain it); until then it is
    // looked at again whenever the consumer is ensured
    if (!this.formerDurableGone) {
      this.formerDurableGone = (await this.bus.retireConsumers('TELEMETRY', [FORMER_WRITER_DURABLE], { onlyWhenDrained: true })).length === 0;
    }
    try {
      await this.bus.jsm.consumers.info(stream, WRITER_DURABLE);
      const { deliver_policy: _fixed, ...updatable } = config;
      await this.bus.jsm.consumers.update(stream, WRITER_DURABLE, updatable);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // upgraded from a writer whose consumer delivered bodies: go on where it had acknowledged
      // (what it still had is written again by both while older replicas run: harmless)
      const previousFloor = await this.bus.jsm.consumers.info(stream, PREVIOUS_WRITER_DURABLE).then(
        (info) => info.ack_floor.stream_seq,
        (e: unknown) => {
          if (isNotFound(e)) return null;
          throw e;
        },
      );
      await this.bus.jsm.consumers.add(
        stream,
        previousFloor === null ? config : { ...config, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: previousFloor + 1 },
      );
    }
    await this.retirePreviousDurable();
    return this.bus.js.consumers.get(stream, WRITER_DURABLE);
  }

  /**
   * Deletes the previous writer's durable once no replica reads it: no pull waiting, nothing in
   * flight, and nothing delivered since the last look, at least WRITER_RETIRE_CHECK_MS before (a consumer
   * that is read has a pull waiting nearly all the time; two looks a minute apart rule out the gap
   * between two pulls). WRITER_DURABLE started where it had acknowledged, so what it had left is
   * written. Not sooner: an older replica whose consumer is deleted makes it anew from the start of
   * the stream and writes all of it again.
   */
  private async retirePreviousDurable(): Promise<void> {
    if (this.previousDurableGone) return;
    const stream = STREAMS.TELEMETRY.name;
    try {
      const info = await this.bus.jsm.consumers.info(stream, PREVIOUS_WRITER_DURABLE);
      const idle = (info.num_waiting ?? 0) === 0 && info.num_ack_pending === 0;
      const look = { delivered: info.delivered.stream_seq, at: Date.now() };
      const before = this.previousLook;
      this.previousLook = idle ? look : undefined;
      if (idle && before !== undefined && before.delivered === look.delivered && look.at - before.at >= this.config.WRITER_RETIRE_CHECK_MS) {
        await this.bus.jsm.consumers.delete(stream, PREVIOUS_WRITER_DURABLE);
        this.logger.info({ durable: PREVIOUS_WRITER_DURABLE, left: info.num_pending }, 'deleted the previous InfluxDB writer consumer, which no replica reads; its messages are written from its acknowledged position by the new one');
        this.previousDurableGone = true;
      }
    } catch (err) {
      if (isNotFound(err)) this.previousDurableGone = true;
      else this.logger.warn({ err }, 'could not look at the previous InfluxDB writer consumer; trying again later');
    }
    if (this.previousDurableGone) {
      clearInterval(this.retireTimer);
      this.retireTimer = undefined;
    } else this.retireTimer ??= setInterval(() => void this.retirePreviousDurable(), this.config.WRITER_RETIRE_CHECK_MS).unref();
  }

  /**
   * The body of a headers-only message: handed over by this process's accept path, or read from the
   * stream (accepted by another replica, before a restart, or dropped from LocalBodies). A message
   * may be delivered before its publisher read the acknowledgement that hands the body over, so this
   * process's publish of its id, if one is under way, is waited for first (only that one: a message
   * another replica accepted is read at once). null when the stream no longer holds the message.
   */
  private async bodyOf(msg: JsMsg): Promise<Uint8Array | null> {
    const msgId = msgIdOf(msg);
    await this.bodies.published(msgId);
    const late = this.bodies.take(msg.seq, msgId);
    if (late !== undefined) return late;
    this.metrics.bodiesFetched.inc();
    try {
      const stored = await this.bus.jsm.streams.getMessage(STREAMS.TELEMETRY.name, { seq: msg.seq });
      return stored?.data ?? null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  private async accept(msg: JsMsg): Promise<void> {
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) await Promise.race([sleep(wait), this.stopSignal]);
    // a message delivered with its body (a consumer that is not headers-only), or whose body this
    // process handed over, is buffered at once
    const data = msg.data.length > 0 ? msg.data : this.bodies.take(msg.seq, msgIdOf(msg));
    if (data !== undefined) this.buffered(msg, data);
    else {
      // any other body is read while the next messages are taken (one request each: a message
      // another replica accepted must not hold up the rest), at most READS_AHEAD at once
      const read: Promise<void> = this.bodyOf(msg)
        .then(
          (body) => this.buffered(msg, body),
          (err: unknown) => {
            // NATS did not answer: the message comes again after its backoff
            this.logger.warn({ err, seq: msg.seq }, 'could not read a telemetry message from the stream; it will be redelivered');
            msg.nak(1000);
          },
        )
        .finally(() => this.reads.delete(read));
      this.reads.add(read);
      while (this.reads.size >= READS_AHEAD) await Promise.race(this.reads);
    }
    // bounded: the next message waits until fewer than WRITE_CONCURRENCY writes are in flight
    while (this.writes.size >= this.config.WRITE_CONCURRENCY) await Promise.race(this.writes);
  }

  /** Adds a message with its body to the buffer, and starts a write when it is full. */
  private buffered(msg: JsMsg, data: Uint8Array | null): void {
    if (data === null) {
      this.logger.error({ seq: msg.seq }, 'telemetry message was removed from the stream (its limits) before it was written; terminated');
      this.metrics.writeFailures.inc({ kind: 'removed' });
      msg.term();
      return;
    }
    // the only check: InfluxDB takes nothing but UTF-8, and an empty message has no line
    if (data.length === 0 || !isUtf8(data)) {
      this.logger.error({ seq: msg.seq, bytes: data.length }, 'telemetry message is not UTF-8 line protocol; terminated');
      msg.term();
      return;
    }
    this.buffer.entries.push({ msg, data });
    this.buffer.lines += countLines(data);
    if (this.buffer.lines >= this.config.WRITE_BATCH_SIZE) void this.flush();
    else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.config.WRITE_FLUSH_MS);
  }

  /**
   * Starts writing what is buffered. Writes run side by side (InfluxDB takes concurrent writes much
   * faster than one after another); each acknowledges its own messages. Order does not matter:
   * InfluxDB keeps one value per series and timestamp.
   */
  private flush(): Promise<void> {
    const write: Promise<void> = this.writeBuffered()
      .catch((err: unknown) => this.logger.error({ err }, 'InfluxDB writer flush failed unexpectedly'))
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
    return write;
  }

  private async writeBuffered(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const { entries, lines } = this.buffer;
    this.buffer = { entries: [], lines: 0 };
    if (entries.length === 0) return;
    for (const e of entries) e.msg.working();
    /** the messages not settled yet (acknowledged or terminated) */
    let open = entries;
    try {
      const refused = await this.write(entries, lines);
      if (refused) {
        // InfluxDB stored the rest and refused some lines for good (type conflict, a line it cannot
        // parse): retrying cannot change that. Which message holds them? Each is written alone
        // (what is stored already is stored again, harmlessly); those refused again are terminated.
        this.logger.error({ err: refused.message, messages: entries.length, lines }, 'InfluxDB refused part of a write; writing its messages one by one');
        if (entries.length === 1) {
          entries[0]!.msg.term();
          open = [];
        } else {
          const rest = [...entries];
          while (rest.length > 0) {
            const e = rest[0]!;
            const again = await this.write([e], countLines(e.data));
            if (again) {
              this.logger.error({ err: again.message, seq: e.msg.seq }, 'InfluxDB refused lines of a telemetry message for good; terminated');
              e.msg.term();
            } else e.msg.ack();
            rest.shift();
            open = rest;
          }
        }
      }
    } catch (err) {
      this.failures++;
      const pause = Math.min(30_000, 250 * 2 ** Math.min(this.failures, 7));
      this.pausedUntil = Date.now() + pause;
      this.metrics.writeFailures.inc({ kind: 'retried' });
      this.logger.warn({ err: (err as Error).message, messages: open.length, lines, retry_in_ms: pause }, 'InfluxDB write failed; telemetry will be redelivered');
      for (const e of open) {
        // the redelivery finds its body here again (within LocalBodies' bounds)
        const msgId = msgIdOf(e.msg);
        if (msgId !== undefined) this.bodies.put(e.msg.seq, msgId, e.data);
        e.msg.nak(Math.min(30_000, 500 * 2 ** Math.min(e.msg.info.deliveryCount, 6)));
      }
      return;
    }
    this.failures = 0;
    for (const e of open) e.msg.ack();
  }

  /**
   * One InfluxDB write of the messages' bytes joined by `\n`. Resolves with the error when InfluxDB
   * refused part of it for good; throws when a retry later may succeed.
   */
  private async write(entries: Entry[], lines: number): Promise<InfluxError | null> {
    const parts: Uint8Array[] = [];
    let size = 0;
    for (const e of entries) {
      if (parts.length > 0) {
        parts.push(NEWLINE);
        size++;
      }
      parts.push(e.data);
      size += e.data.length;
    }
    const stop = this.metrics.writeSeconds.startTimer();
    try {
      await this.influx.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size), 'raw');
      this.metrics.linesWritten.inc(lines);
      return null;
    } catch (err) {
      if (!(err instanceof InfluxError) || err.retryable) throw err;
      this.metrics.writeFailures.inc({ kind: 'refused' });
      return err;
    } finally {
      stop();
    }
  }
}

/** The de-duplication id a message was published with (ingest gives every lines message one). */
function msgIdOf(msg: JsMsg): string | undefined {
  return msg.headers?.get('Nats-Msg-Id') || undefined;
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10014 || e?.code === '404' || e?.code === 404 || /not found/i.test(e?.message ?? '');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
