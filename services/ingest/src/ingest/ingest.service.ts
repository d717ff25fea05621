import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { AppError, type AgentInfo } from '@agentmon/contracts';
import { EventBus } from '@agentmon/messaging';
import { runWithRequestId } from '@agentmon/observability';
import { INGEST_CONFIG, retentionMs, type IngestConfig } from '../config.js';
import { LatestValuesService } from '../latest/latest-values.service.js';
import { BackfillMarks } from '../downsample/backfill-marks.service.js';
import { LOGGER } from '../logger.token.js';
import { INGEST_METRICS, type IngestMetrics } from '../stats/ingest-metrics.js';
import { IngestStatsService } from '../stats/ingest-stats.service.js';
import { FieldTypesService } from './field-types.service.js';
import { HEADER_ROOM, batchMessages, cutAtNewlines, groupLines, packed, type StreamMessage } from './batch-chunks.js';
import { AgentAnnouncements, type Heartbeats } from './agent-announcements.js';
import { PublishCoalescer } from './publish-coalescer.js';
import { JsonBatchValidator } from './json-batch.validator.js';
import { scanLineProtocol, type FastBatch, type LatestPoint } from './line-protocol.fast.js';
import { parseLineProtocol, type Precision } from './line-protocol.parser.js';
import { Details, oldestBefore, pointLimits, type PreparedBatch } from './point-rules.js';
import { OtlpMetricsMapper } from '../otlp/otlp-metrics.mapper.js';
import { OwnLines } from '../influx/own-lines.js';

/** batches up to this fraction of a stream message share messages with other requests (PublishCoalescer) */
const COALESCE_FRACTION = 8;
/** NATS' default max_payload, used when the server does not say */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** An accepted batch as it is stored. */
interface Accepted {
  source: PreparedBatch['source'];
  receivedAt: number;
  agents: AgentInfo[];
  points: number;
  /** the points as lines of the stream's normal form, UTF-8 */
  lines: Uint8Array;
  /** the lines in messages of at most `max` bytes (for a batch larger than a coalesced one) */
  cut(lines: Uint8Array, max: number): Uint8Array[];
  /** after JetStream acknowledged the batch: field types and latest values */
  stored(): void;
}

/**
 * The accept path shared by every format: check the whole batch, store it in JetStream as lines of
 * the stream's normal form (`evt.ingest.telemetry.lines.v1`, several messages when larger than a
 * NATS message) and its agents (`evt.ingest.telemetry.agents.v1`), and answer only after JetStream
 * acknowledged every message.
 */
@Injectable()
export class IngestService implements BeforeApplicationShutdown {
  private readonly validator: JsonBatchValidator;
  private readonly otlp: OtlpMetricsMapper;
  private readonly rawRetentionMs: number;
  private readonly coalescer: PublishCoalescer;
  private readonly announcements: AgentAnnouncements;
  private inflightBytes = 0;
  /** the next send of queued heartbeats (AgentAnnouncements), when one is due */
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatSend: Promise<void> | undefined;
  private closing = false;
  private lastHeartbeatWarning = 0;

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(IngestStatsService) private readonly stats: IngestStatsService,
    @Inject(FieldTypesService) private readonly fieldTypes: FieldTypesService,
    @Inject(LatestValuesService) private readonly latest: LatestValuesService,
    @Inject(BackfillMarks) private readonly backfill: BackfillMarks,
    @Inject(INGEST_METRICS) private readonly metrics: IngestMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(OwnLines) private readonly ownLines: OwnLines,
  ) {
    this.validator = new JsonBatchValidator(config.MAX_POINTS);
    this.otlp = new OtlpMetricsMapper(config.MAX_POINTS);
    this.rawRetentionMs = retentionMs(config.RAW_RETENTION);
    this.announcements = new AgentAnnouncements(config.AGENT_ANNOUNCE_INTERVAL_MS);
    this.coalescer = new PublishCoalescer((messages) => this.publishMessages(messages), () => this.maxMessageBytes, undefined, config.PUBLISH_LINGER_MS);
  }

  /** The largest stream message, from the server's max_payload. */
  get maxMessageBytes(): number {
    return (this.bus.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - HEADER_ROOM;
  }

  /**
   * `boundAgent` (here and in acceptLines/acceptOtlp): the agent the API key is bound to, if it is.
   * The batch must then be for that agent only (403 naming what is not); else any agent of the fleet.
   */
  async acceptJson(body: unknown, bodyBytes: number, boundAgent?: string): Promise<number> {
    const receivedAt = Date.now();
    const outcome = this.validator.check(body, this.limits(receivedAt));
    if (!outcome.ok) throw this.refusal('json', outcome.details, 'point');
    this.assertBoundAgent(outcome.batch, boundAgent, () => 'agent.id', 'agent.id');
    const conflict = await this.fieldTypes.conflicts(outcome.batch, (i) => `points[${i}]`, 'point');
    if (conflict) throw this.refusal('json', conflict.details, conflict.what);
    return this.store(this.prepared(outcome.batch), bodyBytes);
  }

  /**
   * Line protocol (`body`: UTF-8, checked by the caller): the fast path (line-protocol.fast.ts) when
   * it takes the whole body, for a key that may push for every agent of the batch, and InfluxDB holds
   * no other type for its fields; else the slow path (parseLineProtocol), which names every problem.
   */
  async acceptLines(body: Buffer, precision: Precision, boundAgent?: string): Promise<number> {
    const receivedAt = Date.now();
    const limits = this.limits(receivedAt);
    const fast = scanLineProtocol(body, precision, limits, this.config.MAX_POINTS);
    if (fast !== null) {
      // comments and blank lines only: nothing to store, no agent to speak for
      if (fast.points === 0) return 0;
      if ((boundAgent === undefined || fast.agents.every((a) => a === boundAgent)) && !(await this.fieldTypes.anyConflict(fast.fieldKinds))) {
        return this.store(this.fastAccepted(fast, receivedAt), body.length);
      }
    }
    const outcome = parseLineProtocol(body.toString('utf8'), precision, limits, this.config.MAX_POINTS);
    if (!outcome.ok) throw this.refusal('line', outcome.details, 'line');
    if (outcome.batch.points.length === 0) return 0;
    const lines = outcome.batch.lines ?? [];
    this.assertBoundAgent(outcome.batch, boundAgent, (i) => `lines[${lines[i] ?? i}].tags.agent_id`, 'lines');
    const conflict = await this.fieldTypes.conflicts(outcome.batch, (i) => `lines[${lines[i] ?? i}]`, 'line');
    if (conflict) throw this.refusal('line', conflict.details, conflict.what);
    return this.store(this.prepared(outcome.batch), body.length);
  }

  /** An OTLP ExportMetricsServiceRequest in proto3 JSON form (decoded from protobuf, or as sent). */
  async acceptOtlp(request: unknown, bodyBytes: number, boundAgent?: string): Promise<number> {
    const receivedAt = Date.now();
    const outcome = this.otlp.map(request, this.limits(receivedAt));
    if (!outcome.ok) throw this.refusal('otlp', outcome.details, 'data point');
    // an empty request is a success that stores nothing (OTLP)
    if (outcome.batch.points.length === 0 && outcome.batch.agents.length === 0) return 0;
    const paths = outcome.paths;
    this.assertBoundAgent(outcome.batch, boundAgent, (i) => paths[i] ?? `dataPoints[${i}]`, 'resourceMetrics');
    const conflict = await this.fieldTypes.conflicts(outcome.batch, (i) => paths[i] ?? `dataPoints[${i}]`, 'data point');
    if (conflict) throw this.refusal('otlp', conflict.details, conflict.what);
    return this.store(this.prepared(outcome.batch), bodyBytes);
  }

  private limits(receivedAt: number) {
    return pointLimits(receivedAt, this.rawRetentionMs, this.maxMessageBytes);
  }

  /** A batch whose points were checked one by one (JSON, OTLP, the slow path of line protocol). */
  private prepared(batch: PreparedBatch): Accepted {
    return {
      source: batch.source,
      receivedAt: batch.receivedAt,
      agents: batch.agents,
      points: batch.points.length,
      lines: Buffer.from(batch.encoded.join('\n')),
      // a string field may hold a newline: cut between the points
      cut: (_lines, max) => groupLines(batch.encoded, max),
      stored: () => {
        this.fieldTypes.remember(batch);
        this.observe(batch.points);
        this.backfill.note(oldestBefore(batch.points, this.backfill.lateBefore(batch.receivedAt)));
      },
    };
  }

  /** A line-protocol batch the fast path took: its lines are stored as the scanner gave them, no point was built. */
  private fastAccepted(fast: FastBatch, receivedAt: number): Accepted {
    return {
      source: 'line',
      receivedAt,
      agents: fast.agents.map((id) => ({ id })),
      points: fast.points,
      // the body's own bytes where they are the normal form
      lines: fast.lines,
      cut: cutAtNewlines,
      stored: () => {
        this.fieldTypes.rememberKinds(fast.fieldKinds);
        // only each agent's newest line per shape, decoded when the values are sent: per agent, not per point
        this.latest.observeLines(fast.newestLines());
        void this.latest.flush();
        this.backfill.note(fast.oldestBefore(this.backfill.lateBefore(receivedAt)));
      },
    };
  }

  private observe(points: readonly LatestPoint[]): void {
    if (points.length === 0) return;
    this.latest.observe(points);
    void this.latest.flush();
  }

  /**
   * A key bound to one agent pushes for that agent only. Each point for another agent is named (a
   * JSON batch names its agent once, `agent.id`; a line its `agent_id` tag); an agent the batch would
   * register without any point of it is named by `agentPath`. Nothing of the batch is stored.
   */
  private assertBoundAgent(batch: PreparedBatch, boundAgent: string | undefined, pathOf: (index: number) => string, agentPath: string): void {
    if (boundAgent === undefined) return;
    const details = new Details();
    const reason = `is not ${boundAgent}, the only agent this API key may push for`;
    batch.points.forEach((p, i) => {
      if (p.agent_id !== boundAgent) details.add(i, pathOf(i), reason);
    });
    if (details.empty && batch.agents.some((a) => a.id !== boundAgent)) details.add(null, agentPath, reason);
    if (details.empty) return;
    this.metrics.requests.inc({ source: batch.source, outcome: 'forbidden' });
    const first = details.list[0]!;
    const more = details.total > 1 ? ` (and ${details.total - 1} more)` : '';
    throw new AppError('forbidden', `this API key is bound to agent ${boundAgent}; nothing was stored: ${first.path} ${first.reason}${more}`, details.list);
  }

  /**
   * Stores stream messages (large ones of lines compressed: `packed`, their plain lines kept for this
   * replica's writer: OwnLines); resolves once JetStream acknowledged every one.
   */
  private async publishMessages(messages: StreamMessage[]): Promise<void> {
    const stored = messages.map((m) => {
      const p = packed(m, this.config.STREAM_COMPRESS_MIN_BYTES);
      if (p !== m) this.ownLines.keep(p.msgId, m.data);
      return p;
    });
    const publishAll = () => Promise.all(stored.map((m) => this.bus.publishRaw(m.subject, m.data, m.msgId)));
    try {
      await publishAll();
    } catch (err) {
      if (!isMissingStream(err)) throw err;
      // the stream was deleted while we run (an operator, a reset): create it again and retry;
      // messages already stored are de-duplicated by their ids
      this.logger.warn('the TELEMETRY stream is missing; creating it again');
      await this.bus.ensureStreams(['TELEMETRY']);
      await publishAll();
    }
    this.metrics.chunks.inc(messages.length);
  }

  /** Heartbeats queued by AgentAnnouncements go out an interval after the first of them was queued. */
  private scheduleHeartbeats(): void {
    if (this.heartbeatTimer !== undefined || this.heartbeatSend !== undefined || !this.announcements.heartbeatsQueued) return;
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = undefined;
      // a request id of its own, not that of the request whose batch set the timer
      this.heartbeatSend = runWithRequestId(undefined, () => this.sendHeartbeats()).finally(() => {
        this.heartbeatSend = undefined;
        if (!this.closing) this.scheduleHeartbeats();
      });
    }, this.config.AGENT_ANNOUNCE_INTERVAL_MS).unref();
  }

  /**
   * One agents message per source of what is queued. A message JetStream does not store is queued
   * again, for the next send (at most one heartbeat per agent waits, so memory stays bounded while
   * NATS is away).
   */
  private async sendHeartbeats(): Promise<void> {
    const failed: Heartbeats[] = [];
    let lastError: unknown;
    for (let taken = this.announcements.takeHeartbeats(); taken; taken = this.announcements.takeHeartbeats()) {
      try {
        const header = { batchId: randomUUID(), receivedAt: taken.receivedAt, source: taken.source, agents: taken.agents };
        await this.publishMessages(batchMessages(header, [], this.maxMessageBytes));
      } catch (err) {
        failed.push(taken);
        lastError = err;
      }
    }
    for (const taken of failed) this.announcements.returnHeartbeats(taken);
    if (failed.length > 0 && Date.now() - this.lastHeartbeatWarning > 60_000) {
      this.lastHeartbeatWarning = Date.now();
      this.logger.warn({ err: lastError, agents: failed.reduce((n, f) => n + f.agents.length, 0) }, 'agent heartbeats could not be stored in JetStream; will retry');
    }
  }

  /**
   * Shutting down: every agent of a batch accepted from now on is named with its batch, and the
   * heartbeats still queued are sent (once; what fails then is lost, and each agent's next batch brings it again).
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    await this.heartbeatSend;
    if (this.announcements.heartbeatsQueued) await this.sendHeartbeats();
  }

  private refusal(source: PreparedBatch['source'], details: Details, what: string): AppError {
    this.metrics.requests.inc({ source, outcome: 'invalid' });
    return new AppError('bad_request', details.message(what), details.list);
  }

  private async store(batch: Accepted, bodyBytes: number): Promise<number> {
    // Bounded memory under overload: bodies waiting for JetStream count against MAX_INFLIGHT_BYTES.
    if (this.inflightBytes + bodyBytes > this.config.MAX_INFLIGHT_BYTES && this.inflightBytes > 0) {
      this.metrics.requests.inc({ source: batch.source, outcome: 'overloaded' });
      throw new AppError('unavailable', 'ingest is overloaded; retry shortly', undefined, 1);
    }
    this.inflightBytes += bodyBytes;
    const stop = this.metrics.publishSeconds.startTimer();
    // the agents its agents message names: not those named a moment ago, nor known ones (queued as heartbeats)
    const agents = this.announcements.due(batch.agents, batch.receivedAt, batch.source, !this.closing);
    this.scheduleHeartbeats();
    try {
      const max = this.maxMessageBytes;
      if (batch.lines.length <= max / COALESCE_FRACTION) {
        // small: shares stream messages with the requests that arrive while one is being stored
        await this.coalescer.submit({ source: batch.source, receivedAt: batch.receivedAt, agents, lines: batch.lines });
      } else {
        const header = { batchId: randomUUID(), receivedAt: batch.receivedAt, source: batch.source, agents };
        const lines = batch.lines.length <= max ? [batch.lines] : batch.cut(batch.lines, max);
        await this.publishMessages(batchMessages(header, lines, max));
      }
    } catch (err) {
      this.metrics.requests.inc({ source: batch.source, outcome: 'unavailable' });
      this.logger.warn({ err, points: batch.points }, 'telemetry batch could not be stored in JetStream');
      throw new AppError('unavailable', 'telemetry could not be stored right now; retry shortly', undefined, 2);
    } finally {
      this.inflightBytes -= bodyBytes;
      stop();
    }
    this.announcements.announced(agents, batch.receivedAt);
    try {
      batch.stored();
    } catch (err) {
      // the batch is stored and answered as such; only the field-type cache or the live values miss it
      this.logger.error({ err }, 'accepted batch could not update the field types or latest values');
    }
    this.metrics.requests.inc({ source: batch.source, outcome: 'accepted' });
    this.metrics.points.inc({ source: batch.source }, batch.points);
    this.stats.record(batch.points, batch.receivedAt);
    return batch.points;
  }
}

/** JetStream answers a subject no stream listens to with "no responders" (reported as JetStream not enabled). */
export function isMissingStream(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  return e?.name === 'JetStreamNotEnabled' || /no responders|jetstream is not enabled|stream not found/i.test(e?.message ?? '');
}
