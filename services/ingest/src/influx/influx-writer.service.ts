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
import { InfluxClient, InfluxError } from './influx.client.js';
import { InfluxSchemaService } from './influx-schema.service.js';
import { encodePoint } from './line-protocol.js';

export const WRITER_DURABLE = 'ingest-influx-writer';
const SUBJECT = 'evt.ingest.telemetry.batch.v1' satisfies keyof typeof EVENTS;
const NS_PER_MS = 1_000_000;
/** bytes of stream messages fetched ahead of processing */
const PREFETCH_BYTES = 16 * 1024 * 1024;

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
  private flushing: Promise<void> = Promise.resolve();
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
    // finish the batch in hand; what fails here is redelivered to another replica
    await this.flush();
  }

  private async run(): Promise<void> {
    await Promise.race([this.schema.ready, this.stopSignal]);
    while (!this.stopped) {
      try {
        const consumer = await this.ensureConsumer();
        // a deleted stream or consumer ends the iteration, so the loop creates them again
        this.messages = await consumer.consume({ max_bytes: PREFETCH_BYTES, abort_on_missing_resource: true });
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
      ack_wait: 60_000 * NS_PER_MS,
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
    if (this.lines.length >= this.config.WRITE_BATCH_SIZE) await this.flush();
    else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.config.WRITE_FLUSH_MS);
  }

  /** Writes what is buffered; writes run one after another. */
  private flush(): Promise<void> {
    // a failure never breaks the chain: the next flush must still run
    this.flushing = this.flushing
      .then(() => this.writeBuffered())
      .catch((err: unknown) => this.logger.error({ err }, 'InfluxDB writer flush failed unexpectedly'));
    return this.flushing;
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
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10014 || e?.code === '404' || e?.code === 404 || /not found/i.test(e?.message ?? '');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
