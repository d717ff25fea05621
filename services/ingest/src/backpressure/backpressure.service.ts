import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { AppError, STREAMS } from '@agentmon/contracts';
import { EventBus } from '@agentmon/messaging';
import { METRICS_REGISTRY } from '@agentmon/observability';
import { INGEST_CONFIG, type IngestConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { WRITER_DURABLE } from '../influx/influx-writer.service.js';

/** Why pushes are refused right now, or null while they are accepted. */
export interface Refusal {
  reason: 'writer_backlog' | 'stream_full' | 'writer_lag' | 'memory';
  message: string;
  retryAfterSeconds: number;
}

export interface BackpressureReading {
  /** stream messages the writer has not written yet (num_pending + num_ack_pending) */
  backlog: number;
  /** bytes in the stream / its max_bytes */
  streamFill: number;
  /** ms since the oldest message the writer has not written was stored (0 without backlog) */
  lagMs: number;
}

/**
 * Decides whether ingest may take more telemetry, from what JetStream says about the TELEMETRY
 * stream and the InfluxDB writer's durable consumer (shared by every replica, so every replica
 * decides alike). The reading is refreshed every BACKPRESSURE_REFRESH_MS in the background and
 * cached; a request only looks at the cached decision. Pushes are refused (503 with Retry-After)
 * while the writer's backlog, the stream's fill or the age of the oldest unwritten message is over
 * its limit, so the stream never fills up and nothing acknowledged can age out of it. When
 * JetStream cannot be asked, the last decision stands (publishing fails by itself then).
 */
@Injectable()
export class BackpressureService implements OnApplicationBootstrap, OnApplicationShutdown {
  private refusal: Refusal | null = null;
  private reading: BackpressureReading = { backlog: 0, streamFill: 0, lagMs: 0 };
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  /** the oldest unwritten message: its sequence and when it was stored */
  private oldest: { seq: number; at: number } | undefined;
  private lastWarning = 0;
  private readonly refused: Counter<'reason'>;

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.refused = new Counter({
      name: 'agentmon_ingest_backpressure_refusals_total',
      help: 'Push requests refused with 503 because the writer or the stream is behind its limits, or request memory is used up',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    const reading = () => this.reading;
    const gauge = (name: string, help: string, value: (r: BackpressureReading) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(value(reading()));
        },
      });
    gauge('agentmon_ingest_writer_backlog_messages', 'Telemetry stream messages the InfluxDB writer has not written yet', (r) => r.backlog);
    gauge('agentmon_ingest_writer_lag_seconds', 'Age of the oldest telemetry stream message the InfluxDB writer has not written', (r) => r.lagMs / 1000);
    gauge('agentmon_ingest_stream_fill_ratio', "Bytes in the telemetry stream relative to its max_bytes", (r) => r.streamFill);
  }

  onApplicationBootstrap(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.config.BACKPRESSURE_REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** The cached decision: null to accept, else why not. */
  current(): Refusal | null {
    return this.refusal;
  }

  get lastReading(): BackpressureReading {
    return this.reading;
  }

  /** Throws the 503 of the current refusal, if any. */
  assertAccepting(): void {
    const r = this.refusal;
    if (!r) return;
    this.refused.inc({ reason: r.reason });
    throw new AppError('unavailable', r.message, undefined, r.retryAfterSeconds);
  }

  /** Counts a refusal made elsewhere (request memory), so all refusals show in one series. */
  countRefusal(reason: Refusal['reason']): void {
    this.refused.inc({ reason });
  }

  /** Reads the consumer and the stream once (one reading at a time). */
  refresh(): Promise<void> {
    this.refreshing ??= this.read().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async read(): Promise<void> {
    const stream = STREAMS.TELEMETRY.name;
    try {
      const [info, consumer] = await Promise.all([
        this.bus.jsm.streams.info(stream),
        this.bus.jsm.consumers.info(stream, WRITER_DURABLE).catch((err: unknown) => {
          if (isNotFound(err)) return null; // the writer has not created it yet: nothing is waiting for it
          throw err;
        }),
      ]);
      const maxBytes = info.config.max_bytes;
      const streamFill = maxBytes > 0 ? info.state.bytes / maxBytes : 0;
      const backlog = consumer ? consumer.num_pending + consumer.num_ack_pending : 0;
      let lagMs = 0;
      if (consumer && backlog > 0) {
        // the first message after the ack floor is the oldest one not written yet
        const seq = Math.max(consumer.ack_floor.stream_seq + 1, info.state.first_seq);
        if (this.oldest?.seq !== seq) {
          const msg = await this.bus.jsm.streams.getMessage(stream, { seq }).catch(() => null);
          this.oldest = msg ? { seq, at: msg.time.getTime() } : undefined;
        }
        if (this.oldest) lagMs = Math.max(0, Date.now() - this.oldest.at);
      } else this.oldest = undefined;
      this.reading = { backlog, streamFill, lagMs };
      this.refusal = this.decide(this.reading);
    } catch (err) {
      if (Date.now() - this.lastWarning > 60_000) {
        this.lastWarning = Date.now();
        this.logger.warn({ err }, 'backpressure: JetStream could not be asked about the writer backlog; keeping the last decision');
      }
    }
  }

  private decide(r: BackpressureReading): Refusal | null {
    const c = this.config;
    const retryAfterSeconds = c.BACKPRESSURE_RETRY_AFTER_S;
    if (r.streamFill >= c.BACKPRESSURE_MAX_STREAM_FILL) {
      return { reason: 'stream_full', message: 'ingest is overloaded: the telemetry stream is nearly full; retry later', retryAfterSeconds };
    }
    if (r.backlog > c.BACKPRESSURE_MAX_BACKLOG) {
      return { reason: 'writer_backlog', message: 'ingest is overloaded: the InfluxDB writer is behind; retry later', retryAfterSeconds };
    }
    if (r.lagMs > c.BACKPRESSURE_MAX_LAG_MS) {
      return { reason: 'writer_lag', message: 'ingest is overloaded: telemetry has not been written to InfluxDB for too long; retry later', retryAfterSeconds };
    }
    return null;
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10014 || e?.code === '404' || e?.code === 404 || /not found/i.test(e?.message ?? '');
}
