import { isUtf8 } from 'node:buffer';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, PubHeaders, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { ALL_LINES_FILTER, COMPRESSED_LINES_SUBJECT, LINES_SUBJECT, STREAMS, decompressLines } from '@agentmon/contracts';
import { EventBus } from '@agentmon/messaging';
import { INGEST_CONFIG, type IngestConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { INGEST_METRICS, type IngestMetrics } from '../stats/ingest-metrics.js';
import { InfluxClient, InfluxError } from './influx.client.js';
import { InfluxSchemaService } from './influx-schema.service.js';
import { OwnLines } from './own-lines.js';

/** The writer's durable consumer: both subjects of lines (`evt.ingest.telemetry.lines.>`). */
export const WRITER_DURABLE = 'ingest-influx-all-lines';
/**
 * The writer's durable consumers of earlier versions, deleted once drained (during a rolling upgrade
 * older replicas still drain them): of the JSON batches (evt.ingest.telemetry.batch.v1), and of the
 * uncompressed lines only (evt.ingest.telemetry.lines.v1), shared by replicas of that version, which must
 * not be handed compressed messages they cannot read (they would terminate them).
 */
export const FORMER_WRITER_DURABLE = 'ingest-influx-writer';
export const PREVIOUS_WRITER_DURABLE = 'ingest-influx-lines';
const NS_PER_MS = 1_000_000;
/** how often consumers of earlier versions that are still needed are looked at again */
const RETIRE_CHECK_MS = 60_000;
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

/** Messages whose lines are written together, with their lines' bytes (decompressed). */
interface Buffered {
  msgs: JsMsg[];
  data: Uint8Array[];
  lines: number;
}

/**
 * Moves telemetry from JetStream into InfluxDB. The stream carries line protocol that ingest has
 * checked and put in its normal form (`evt.ingest.telemetry.lines.v1`, and Brotli-compressed on
 * `evt.ingest.telemetry.lines.br.v1`; timestamps in ms), so the writer decompresses what is
 * compressed and otherwise neither decodes nor encodes: a durable consumer shared by all replicas (explicit acks)
 * feeds a buffer of messages, and their bytes, joined by `\n`, are one InfluxDB write
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
  private buffer: Buffered = { msgs: [], data: [], lines: 0 };
  private timer: NodeJS.Timeout | undefined;
  /** InfluxDB writes in flight (at most WRITE_CONCURRENCY started by a full buffer) */
  private readonly writes = new Set<Promise<void>>();
  private failures = 0;
  private pausedUntil = 0;
  private stopped = false;
  private signalStop!: () => void;
  private readonly stopSignal = new Promise<void>((r) => (this.signalStop = r));
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private retireTimer: NodeJS.Timeout | undefined;
  /** age beyond which a message about to be written is first marked in progress (keepFromRedelivery) */
  private readonly progressAfterMs: number;
  /** while the messages of a refused write are written one by one: how often they are marked in progress again */
  private readonly remarkAfterMs: number;

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(InfluxClient) private readonly influx: InfluxClient,
    @Inject(InfluxSchemaService) private readonly schema: InfluxSchemaService,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    @Inject(INGEST_METRICS) private readonly metrics: IngestMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(OwnLines) private readonly ownLines: OwnLines,
  ) {
    // half the acknowledgement wait is left, less the longest a write can take: room for a clock
    // skew of up to that half (0: every message is told about, as with a short wait)
    this.progressAfterMs = Math.max(0, config.WRITER_ACK_WAIT_MS / 2 - influx.timeoutMs);
    // marked again after this long, a write more still ends within the wait (0: before every write)
    this.remarkAfterMs = Math.max(0, config.WRITER_ACK_WAIT_MS - influx.timeoutMs) / 2;
  }

  /**
   * Resolves once the durable consumer exists, before the service accepts telemetry (Nest listens
   * after the bootstrap hooks): a consumer created for the first time starts where the previous
   * version's left off (see ensureConsumer), which holds only if nothing this version publishes
   * came before it.
   */
  async onApplicationBootstrap(): Promise<void> {
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
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.retireTimer);
    this.signalStop();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    // finish the batch in hand and the writes in flight; what fails here is redelivered to another replica
    await this.flush();
    await Promise.all([...this.writes]);
  }

  private async run(): Promise<void> {
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
      deliver_policy: DeliverPolicy.All as DeliverPolicy,
      // one filter for both subjects of lines: `filter_subject` works on every NATS 2.x (`filter_subjects` needs 2.10)
      filter_subject: ALL_LINES_FILTER,
      // enough unacknowledged messages for a full write of small batches, with one in flight
      max_ack_pending: 20_000,
      // how long a message fetched by a replica that died waits before another replica gets it
      ack_wait: this.config.WRITER_ACK_WAIT_MS * NS_PER_MS,
    };
    // the stream may have been deleted while the service runs; the consumer needs it
    await this.bus.ensureStreams(['TELEMETRY']);
    try {
      await this.bus.jsm.consumers.info(stream, WRITER_DURABLE);
      const { deliver_policy: _fixed, ...updatable } = config;
      await this.bus.jsm.consumers.update(stream, WRITER_DURABLE, updatable);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.bus.jsm.consumers.add(stream, { ...config, ...(await this.startAfterPrevious(stream)) });
    }
    await this.retireEarlierDurables();
    return this.bus.js.consumers.get(stream, WRITER_DURABLE);
  }

  /**
   * The consumers of earlier versions go once an older writer has written all they hold, or once no
   * older writer is left to read them (this version still publishes small batches on
   * `evt.ingest.telemetry.lines.v1`, so `ingest-influx-lines` would otherwise fill up for nobody; what
   * it holds, this writer's consumer holds too, from where it was created). During a rolling upgrade
   * older replicas still read them; until they are gone they are looked at again every minute.
   * Resolves with whether they are gone.
   */
  private async retireEarlierDurables(): Promise<boolean> {
    const kept = await this.bus.retireConsumers('TELEMETRY', [FORMER_WRITER_DURABLE, PREVIOUS_WRITER_DURABLE], { onlyWhenDrained: true, orUnused: true });
    if (kept.length > 0 && !this.retireTimer) {
      this.retireTimer = setInterval(() => {
        this.retireEarlierDurables()
          .then((gone) => {
            if (!gone) return;
            clearInterval(this.retireTimer);
            this.retireTimer = undefined;
          })
          .catch((err: unknown) => this.logger.warn({ err }, 'could not look at the consumers of earlier versions; will try again'));
      }, RETIRE_CHECK_MS);
      this.retireTimer.unref();
    }
    return kept.length === 0;
  }

  /**
   * Where a new consumer starts: after what the previous version's consumer (uncompressed lines only)
   * had acknowledged, when there is one, so that an upgrade neither loses what it had not written yet
   * nor writes the stream's whole history again; else at the start of the stream.
   */
  private async startAfterPrevious(stream: string): Promise<{ deliver_policy: DeliverPolicy; opt_start_seq?: number }> {
    try {
      const previous = await this.bus.jsm.consumers.info(stream, PREVIOUS_WRITER_DURABLE);
      let from = previous.ack_floor.stream_seq + 1;
      // compressed messages already stored (this consumer created again, e.g. after the stream was): the
      // previous consumer never reads them, and its acknowledgements may have passed them
      const compressed = await this.firstCompressedSeq(stream);
      if (compressed !== undefined) from = Math.min(from, compressed);
      this.logger.info({ durable: WRITER_DURABLE, previous: PREVIOUS_WRITER_DURABLE, from }, 'InfluxDB writer starts where the previous version left off');
      return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from };
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return { deliver_policy: DeliverPolicy.All };
    }
  }

  /** The stream sequence of the first compressed message of lines the stream holds, if any. */
  private async firstCompressedSeq(stream: string): Promise<number | undefined> {
    const info = await this.bus.jsm.streams.info(stream, { subjects_filter: COMPRESSED_LINES_SUBJECT });
    if (!info.state.subjects?.[COMPRESSED_LINES_SUBJECT]) return undefined;
    const reader = await this.bus.js.consumers.get(stream, { filter_subjects: COMPRESSED_LINES_SUBJECT });
    try {
      return (await reader.next({ expires: 5000 }))?.seq ?? info.state.first_seq;
    } finally {
      await reader.delete().catch(() => undefined);
    }
  }

  private async accept(msg: JsMsg): Promise<void> {
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) await Promise.race([sleep(wait), this.stopSignal]);
    if (msg.subject !== LINES_SUBJECT && msg.subject !== COMPRESSED_LINES_SUBJECT) {
      this.logger.error({ seq: msg.seq, subject: msg.subject }, 'telemetry message of a subject this version cannot read; terminated');
      msg.term();
      return;
    }
    let data = msg.data;
    if (msg.subject === COMPRESSED_LINES_SUBJECT) {
      try {
        data = this.ownLinesOf(msg) ?? decompressLines(msg.data);
      } catch (err) {
        this.logger.error({ seq: msg.seq, bytes: msg.data.length, err: (err as Error).message }, 'telemetry message cannot be decompressed; terminated');
        msg.term();
        return;
      }
    }
    // the only check: InfluxDB takes nothing but UTF-8, and an empty message has no line
    if (data.length === 0 || !isUtf8(data)) {
      this.logger.error({ seq: msg.seq, bytes: data.length }, 'telemetry message is not UTF-8 line protocol; terminated');
      msg.term();
      return;
    }
    this.buffer.msgs.push(msg);
    this.buffer.data.push(data);
    this.buffer.lines += countLines(data);
    if (this.buffer.lines >= this.config.WRITE_BATCH_SIZE) {
      void this.flush();
      // bounded: the next message waits until fewer than WRITE_CONCURRENCY writes are in flight
      while (this.writes.size >= this.config.WRITE_CONCURRENCY) await Promise.race(this.writes);
    } else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.config.WRITE_FLUSH_MS);
  }

  /** The plain lines of a compressed message this replica published a moment ago (OwnLines): no decompressing. */
  private ownLinesOf(msg: JsMsg): Uint8Array | undefined {
    const msgId = msg.headers?.get(PubHeaders.MsgIdHdr);
    return msgId ? this.ownLines.take(msgId) : undefined;
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
    const { msgs, data, lines } = this.buffer;
    this.buffer = { msgs: [], data: [], lines: 0 };
    if (msgs.length === 0) return;
    this.keepFromRedelivery(msgs);
    /** the messages not settled yet (acknowledged or terminated) */
    let open = msgs;
    try {
      const refused = await this.write(data, lines);
      if (refused) {
        // InfluxDB stored the rest and refused some lines for good (type conflict, a line it cannot
        // parse): retrying cannot change that. Which message holds them? Each is written alone
        // (what is stored already is stored again, harmlessly); those refused again are terminated.
        this.logger.error({ err: refused.message, messages: msgs.length, lines }, 'InfluxDB refused part of a write; writing its messages one by one');
        if (msgs.length === 1) {
          msgs[0]!.term();
          open = [];
        } else {
          const rest = [...msgs];
          // one write after another may outlast the acknowledgement wait of the last ones: they are
          // marked in progress now, and again whenever `remarkAfterMs` has passed since
          let marked = -Infinity;
          for (let i = 0; rest.length > 0; i++) {
            const m = rest[0]!;
            if (Date.now() - marked >= this.remarkAfterMs) {
              for (const r of rest) r.working();
              marked = Date.now();
            }
            const again = await this.write([data[i]!], countLines(data[i]!));
            if (again) {
              this.logger.error({ err: again.message, seq: m.seq }, 'InfluxDB refused lines of a telemetry message for good; terminated');
              m.term();
            } else m.ack();
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
      for (const m of open) m.nak(Math.min(30_000, 500 * 2 ** Math.min(m.info.deliveryCount, 6)));
      return;
    }
    this.failures = 0;
    for (const m of open) m.ack();
  }

  /**
   * Tells JetStream that the messages about to be written are being worked on, restarting their
   * acknowledgement wait (WRITER_ACK_WAIT_MS) so that a message that waited long in this replica (a
   * backlog, InfluxDB down) is not handed to another replica while its write runs. Only those stored
   * longer ago than `progressAfterMs`: a message can have been delivered no earlier than it was
   * stored, so the others have more of their wait left than the write can take (InfluxDB's request
   * timeout). The steady load's messages are all fresh, and a progress message for each was one NATS
   * message in six of a batch's (docs/benchmarks.md, item 38). The age comes from the server's clock:
   * a replica whose clock is behind by more than the margin may skip one it should not have, and
   * the message is then written twice, which InfluxDB stores once.
   */
  private keepFromRedelivery(msgs: readonly JsMsg[]): void {
    const storedBefore = (Date.now() - this.progressAfterMs) * 1e6;
    for (const m of msgs) if (m.info.timestampNanos <= storedBefore) m.working();
  }

  /**
   * One InfluxDB write of the messages' lines joined by `\n` (sent as they are, one after the other,
   * not copied into one buffer). Resolves with the error when InfluxDB refused part of it for good;
   * throws when a retry later may succeed.
   */
  private async write(messages: Uint8Array[], lines: number): Promise<InfluxError | null> {
    const parts: Uint8Array[] = [];
    for (const m of messages) {
      if (parts.length > 0) parts.push(NEWLINE);
      parts.push(m);
    }
    const stop = this.metrics.writeSeconds.startTimer();
    try {
      await this.influx.write(parts.length === 1 ? parts[0]! : parts, 'raw');
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

function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10014 || e?.code === '404' || e?.code === 404 || /not found/i.test(e?.message ?? '');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
