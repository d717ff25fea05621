import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { AppError } from '@agentmon/contracts';
import { EventBus } from '@agentmon/messaging';
import { INGEST_CONFIG, retentionMs, type IngestConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { INGEST_METRICS, type IngestMetrics } from '../stats/ingest-metrics.js';
import { IngestStatsService } from '../stats/ingest-stats.service.js';
import { FieldTypesService } from './field-types.service.js';
import { HEADER_ROOM, buildChunks } from './batch-chunks.js';
import { JsonBatchValidator } from './json-batch.validator.js';
import { parseLineProtocol, type Precision } from './line-protocol.parser.js';
import { ENVELOPE_ROOM, pointLimits, type Details, type PreparedBatch } from './point-rules.js';

const SUBJECT = 'evt.ingest.telemetry.batch.v1';
/** NATS' default max_payload, used when the server does not say */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * The accept path shared by every format: check the whole batch, store it in JetStream (one
 * message per batch, several when it is larger than a NATS message), and answer only after
 * JetStream acknowledged every part.
 */
@Injectable()
export class IngestService {
  private readonly validator: JsonBatchValidator;
  private readonly rawRetentionMs: number;
  private inflightBytes = 0;

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(IngestStatsService) private readonly stats: IngestStatsService,
    @Inject(FieldTypesService) private readonly fieldTypes: FieldTypesService,
    @Inject(INGEST_METRICS) private readonly metrics: IngestMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.validator = new JsonBatchValidator(config.MAX_POINTS);
    this.rawRetentionMs = retentionMs(config.RAW_RETENTION);
  }

  /** The largest stream message, from the server's max_payload. */
  get maxMessageBytes(): number {
    return (this.bus.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - HEADER_ROOM;
  }

  async acceptJson(body: unknown, bodyBytes: number): Promise<number> {
    const receivedAt = Date.now();
    const outcome = this.validator.check(body, this.limits(receivedAt));
    if (!outcome.ok) throw this.refusal('json', outcome.details, 'point');
    const conflict = await this.fieldTypes.conflicts(outcome.batch, (i) => `points[${i}]`, 'point');
    if (conflict) throw this.refusal('json', conflict.details, conflict.what);
    return this.store(outcome.batch, bodyBytes);
  }

  async acceptLines(body: string, precision: Precision, bodyBytes: number): Promise<number> {
    const receivedAt = Date.now();
    const outcome = parseLineProtocol(body, precision, this.limits(receivedAt), this.config.MAX_POINTS);
    if (!outcome.ok) throw this.refusal('line', outcome.details, 'line');
    const lines = outcome.batch.lines ?? [];
    const conflict = await this.fieldTypes.conflicts(outcome.batch, (i) => `lines[${lines[i] ?? i}]`, 'line');
    if (conflict) throw this.refusal('line', conflict.details, conflict.what);
    return this.store(outcome.batch, bodyBytes);
  }

  private limits(receivedAt: number) {
    return pointLimits(receivedAt, this.rawRetentionMs, this.maxMessageBytes - ENVELOPE_ROOM);
  }

  private refusal(source: 'json' | 'line', details: Details, what: string): AppError {
    this.metrics.requests.inc({ source, outcome: 'invalid' });
    return new AppError('bad_request', details.message(what), details.list);
  }

  private async store(batch: PreparedBatch, bodyBytes: number): Promise<number> {
    // Bounded memory under overload: bodies waiting for JetStream count against MAX_INFLIGHT_BYTES.
    if (this.inflightBytes + bodyBytes > this.config.MAX_INFLIGHT_BYTES && this.inflightBytes > 0) {
      this.metrics.requests.inc({ source: batch.source, outcome: 'overloaded' });
      throw new AppError('unavailable', 'ingest is overloaded; retry shortly', undefined, 1);
    }
    this.inflightBytes += bodyBytes;
    const stop = this.metrics.publishSeconds.startTimer();
    try {
      const batchId = randomUUID();
      const chunks = buildChunks(
        { batchId, receivedAt: batch.receivedAt, source: batch.source, agents: batch.agents },
        batch.encoded,
        this.maxMessageBytes,
      );
      const publishAll = () => Promise.all(chunks.map((data, i) => this.bus.publishRaw(SUBJECT, data, `${batchId}:${i}`)));
      try {
        await publishAll();
      } catch (err) {
        if (!isMissingStream(err)) throw err;
        // the stream was deleted while we run (an operator, a reset): create it again and retry;
        // chunks already stored are de-duplicated by their message ids
        this.logger.warn('the TELEMETRY stream is missing; creating it again');
        await this.bus.ensureStreams(['TELEMETRY']);
        await publishAll();
      }
      this.metrics.chunks.inc(chunks.length);
    } catch (err) {
      this.metrics.requests.inc({ source: batch.source, outcome: 'unavailable' });
      this.logger.warn({ err, points: batch.points.length }, 'telemetry batch could not be stored in JetStream');
      throw new AppError('unavailable', 'telemetry could not be stored right now; retry shortly', undefined, 2);
    } finally {
      this.inflightBytes -= bodyBytes;
      stop();
    }
    this.fieldTypes.remember(batch);
    this.metrics.requests.inc({ source: batch.source, outcome: 'accepted' });
    this.metrics.points.inc({ source: batch.source }, batch.points.length);
    this.stats.record(batch.points.length, batch.receivedAt);
    return batch.points.length;
  }
}

/** JetStream answers a subject no stream listens to with "no responders" (reported as JetStream not enabled). */
export function isMissingStream(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  return e?.name === 'JetStreamNotEnabled' || /no responders|jetstream is not enabled|stream not found/i.test(e?.message ?? '');
}
