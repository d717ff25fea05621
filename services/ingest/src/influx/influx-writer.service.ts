import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { Ajv, type ValidateFunction } from 'ajv';
import { z } from 'zod';
import type { Logger } from 'pino';
import { EVENTS, STREAMS, TelemetryBatchSchema, type TelemetryBatch } from '@agentmon/contracts';
import { EventBus, decodeJson } from '@agentmon/messaging';
import { INGEST_CONFIG, type IngestConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { INGEST_METRICS, type IngestMetrics } from '../stats/ingest-metrics.js';
import { LatestValuesService } from '../latest/latest-values.service.js';
import { InfluxClient, InfluxError } from './influx.client.js';
import { InfluxSchemaService } from './influx-schema.service.js';
import { encodePoint } from './line-protocol.js';

export const WRITER_DURABLE = 'ingest-influx-writer';
const SUBJECT = 'evt.ingest.telemetry.batch.v1' satisfies keyof typeof EVENTS;
const NS_PER_MS = 1_000_000;
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

/**
 * Moves telemetry from JetStream into InfluxDB. A durable consumer shared by all replicas
 * (explicit acks) feeds a buffer of lines that is written when it holds WRITE_BATCH_SIZE lines or
 * after WRITE_FLUSH_MS. The messages of a write are acknowledged only after InfluxDB answered 204;
 * when InfluxDB fails they are redelivered later (nak with backoff) and the writer pauses, so an
 * InfluxDB outage loses nothing. Writing a point twice is harmless: InfluxDB keeps one value per
 * series and timestamp.
 */
@Injectable()
export class InfluxWriterService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly validate: ValidateFunction<TelemetryBatch>;
  private lines: string[] = [];
  private pending: JsMsg[] = [];
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

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(InfluxClient) private readonly influx: InfluxClient,
    @Inject(InfluxSchemaService) private readonly schema: InfluxSchemaService,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    @Inject(INGEST_METRICS) private readonly metrics: IngestMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(LatestValuesService) private readonly latest: LatestValuesService,
  ) {
    // The contract's schema, compiled: the writer checks every message without zod's per-object cost.
    const ajv = new Ajv({ strict: false });
    this.validate = ajv.compile<TelemetryBatch>(z.toJSONSchema(TelemetryBatchSchema, { target: 'draft-07', io: 'input' }) as object);
  }

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.signalStop();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    // finish the batch in hand and the writes in flight; what fails here is redelivered to another replica
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
      await this.bus.jsm.consumers.add(stream, config);
    }
    return this.bus.js.consumers.get(stream, WRITER_DURABLE);
  }

  private async accept(msg: JsMsg): Promise<void> {
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) await Promise.race([sleep(wait), this.stopSignal]);
    let batch: unknown;
    try {
      batch = decodeJson(msg.data);
    } catch {
      batch = undefined;
    }
    if (!this.validate(batch)) {
      // a message that can never be valid is terminated, not redelivered forever
      this.logger.error({ seq: msg.seq, errors: this.validate.errors?.slice(0, 5) }, 'telemetry message breaks its contract; terminated');
      msg.term();
      return;
    }
    const start = this.lines.length;
    try {
      for (const p of batch.points) this.lines.push(encodePoint(p));
    } catch (err) {
      this.lines.length = start;
      this.logger.error({ err, seq: msg.seq, batch_id: batch.batch_id }, 'telemetry message cannot be encoded; terminated');
      msg.term();
      return;
    }
    this.pending.push(msg);
    this.latest.observe(batch.points);
    if (this.lines.length >= this.config.WRITE_BATCH_SIZE) {
      void this.flush();
      // bounded: the next message waits until fewer than WRITE_CONCURRENCY writes are in flight
      while (this.writes.size >= this.config.WRITE_CONCURRENCY) await Promise.race(this.writes);
    } else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.config.WRITE_FLUSH_MS);
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
    const lines = this.lines;
    const msgs = this.pending;
    this.lines = [];
    this.pending = [];
    if (msgs.length === 0) return;
    for (const m of msgs) m.working();
    const size = this.config.WRITE_BATCH_SIZE;
    try {
      for (let i = 0; i < lines.length; i += size) {
        const slice = lines.slice(i, i + size);
        const stop = this.metrics.writeSeconds.startTimer();
        try {
          await this.influx.write(slice.join('\n'), 'raw');
          this.metrics.linesWritten.inc(slice.length);
        } catch (err) {
          if (!(err instanceof InfluxError) || err.retryable) throw err;
          // InfluxDB wrote the rest of this slice and refused some points for good (type conflict,
          // outside the retention policy): retrying cannot change that, so the batch moves on.
          this.metrics.writeFailures.inc({ kind: 'refused' });
          this.logger.error({ err: err.message, lines: slice.length }, 'InfluxDB refused part of a write; the other points are stored');
        } finally {
          stop();
        }
      }
    } catch (err) {
      this.failures++;
      const pause = Math.min(30_000, 250 * 2 ** Math.min(this.failures, 7));
      this.pausedUntil = Date.now() + pause;
      this.metrics.writeFailures.inc({ kind: 'retried' });
      this.logger.warn({ err: (err as Error).message, messages: msgs.length, lines: lines.length, retry_in_ms: pause }, 'InfluxDB write failed; telemetry will be redelivered');
      for (const m of msgs) m.nak(Math.min(30_000, 500 * 2 ** Math.min(m.info.deliveryCount, 6)));
      return;
    }
    this.failures = 0;
    for (const m of msgs) m.ack();
    void this.latest.flush();
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10014 || e?.code === '404' || e?.code === 404 || /not found/i.test(e?.message ?? '');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
