import { connect, headers as natsHeaders, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type PubAck,
} from '@nats-io/jetstream';
import type { Logger } from 'pino';
import {
  EVENTS,
  HEADERS,
  STREAMS,
  validationError,
  type EventPayload,
  type EventPayloadInput,
  type EventSubject,
  type StreamKey,
} from '@agentmon/contracts';
import { currentRequestId, runWithRequestId } from '@agentmon/observability';
import { decodeJson, encodeJson } from './codec.js';
import { natsConnectionOptions, type NatsTlsOptions } from './nats-tls.js';

const NS_PER_MS = 1_000_000;

export interface StreamLimits {
  maxAgeMs: number;
  maxBytes: number;
  replicas?: number;
  /**
   * When the stream is full: refuse new messages (the publisher answers 503 and keeps nothing it
   * acknowledged at risk) or drop the oldest.
   */
  discardNew?: boolean;
}
export const DEFAULT_STREAM_LIMITS: Record<StreamKey, StreamLimits> = {
  TELEMETRY: { maxAgeMs: 24 * 3600_000, maxBytes: 2 * 1024 ** 3, discardNew: true },
  EVENTS: { maxAgeMs: 7 * 24 * 3600_000, maxBytes: 512 * 1024 ** 2 },
  AUDIT: { maxAgeMs: 30 * 24 * 3600_000, maxBytes: 512 * 1024 ** 2 },
  // revocations matter only while some replica may still cache what they revoke (seconds); an hour
  // lets a replica that was cut off from NATS catch up on everything it missed
  AUTH: { maxAgeMs: 3600_000, maxBytes: 64 * 1024 ** 2 },
};

export interface ConsumeOptions<S extends EventSubject> {
  /** durable consumer name: one per consuming service, shared by its replicas */
  durable: string;
  subjects: S[];
  handler: (payload: EventPayload<S>, meta: { subject: S; deliveryCount: number; msg: JsMsg }) => Promise<void>;
  maxAckPending?: number;
  ackWaitMs?: number;
  /** where a new consumer starts: everything still in the stream, or only new messages */
  deliverNew?: boolean;
}

export interface FollowOptions<S extends EventSubject> {
  /** subjects of one stream */
  subjects: S[];
  /** called for each new event, in stream order; it must not throw (errors are logged) */
  handler: (payload: EventPayload<S>, subject: S) => void;
  /**
   * called when events may have been missed: the connection to NATS was lost, or the consumer had to
   * be re-created (stream deleted, heartbeats missed). Whoever caches what the events invalidate
   * should forget everything then.
   */
  onGap?: () => void;
}

/** what an ordered consumer reports when it may have missed messages */
const GAP_NOTIFICATIONS = new Set(['reset', 'ordered_consumer_recreated', 'stream_not_found', 'consumer_deleted', 'heartbeats_missed']);

/**
 * Durable facts over JetStream: typed publish with server acknowledgement and de-duplication id,
 * and durable consumers with explicit acks and redelivery with backoff on failure.
 */
export class EventBus {
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  private readonly subs: Subscription[] = [];
  private readonly followers: ConsumerMessages[] = [];
  /** the limits last given to ensureStreams, reused when a missing stream is re-created */
  private streamLimits: Partial<Record<StreamKey, StreamLimits>> = {};

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    private readonly logger: Logger,
  ) {}

  /** `tls` (from natsTls in @agentmon/config) requires TLS, trusting its CA and presenting its client certificate. */
  static async connect(servers: string, name: string, logger: Logger, tls?: NatsTlsOptions): Promise<EventBus> {
    const nc = await connect({ ...natsConnectionOptions(servers, tls), name, maxReconnectAttempts: -1 });
    const jsm = await jetstreamManager(nc);
    return new EventBus(nc, jetstream(nc), jsm, logger);
  }

  /** Creates or updates the streams this service publishes to. Idempotent. */
  async ensureStreams(keys: StreamKey[], limits: Partial<Record<StreamKey, StreamLimits>> = {}): Promise<void> {
    this.streamLimits = { ...this.streamLimits, ...limits };
    for (const key of keys) {
      const def = STREAMS[key];
      const l = limits[key] ?? DEFAULT_STREAM_LIMITS[key];
      const config = {
        name: def.name,
        subjects: [...def.subjects],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_age: l.maxAgeMs * NS_PER_MS,
        max_bytes: l.maxBytes,
        num_replicas: l.replicas ?? 1,
        duplicate_window: 2 * 60_000 * NS_PER_MS,
        discard: l.discardNew ? DiscardPolicy.New : DiscardPolicy.Old,
      };
      try {
        await this.jsm.streams.info(def.name);
        await this.jsm.streams.update(def.name, config);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        try {
          await this.jsm.streams.add(config);
        } catch (addErr) {
          // another replica created it between our info and add
          if (!String((addErr as Error).message).includes('already in use')) throw addErr;
        }
      }
    }
  }

  /** Publishes a durable event; resolves once JetStream has stored it. */
  async publish<S extends EventSubject>(subject: S, payload: EventPayloadInput<S>, opts: { msgId?: string } = {}): Promise<PubAck> {
    const parsed = EVENTS[subject].schema.safeParse(payload);
    if (!parsed.success) throw validationError(parsed.error, '', `event ${subject} breaks its contract`);
    return this.publishRaw(subject, encodeJson(parsed.data), opts.msgId);
  }

  /** Publishes bytes already validated and encoded by the caller (the ingest hot path). */
  async publishRaw(subject: EventSubject, data: Uint8Array, msgId?: string): Promise<PubAck> {
    const hdrs = natsHeaders();
    const requestId = currentRequestId();
    if (requestId) hdrs.set(HEADERS.requestId, requestId);
    return this.js.publish(subject, data, { headers: hdrs, ...(msgId ? { msgID: msgId } : {}) });
  }

  /** Ensures a durable consumer and processes its messages until close(). */
  async consume<S extends EventSubject>(opts: ConsumeOptions<S>): Promise<void> {
    const streamKey = EVENTS[opts.subjects[0]!].stream as StreamKey;
    const stream = STREAMS[streamKey].name;
    const config = {
      durable_name: opts.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: opts.deliverNew ? DeliverPolicy.New : DeliverPolicy.All,
      // One filter subject (NATS 2.9 has no filter_subjects): the subject itself, or the common
      // prefix of several with a wildcard; messages of other subjects under it are skipped.
      filter_subject: filterFor(opts.subjects),
      max_ack_pending: opts.maxAckPending ?? 1000,
      ack_wait: (opts.ackWaitMs ?? 30_000) * NS_PER_MS,
    };
    const ensureConsumer = async () => {
      try {
        await this.jsm.consumers.info(stream, opts.durable);
        const { deliver_policy: _ignored, ...updatable } = config;
        await this.jsm.consumers.update(stream, opts.durable, updatable);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await this.jsm.consumers.add(stream, config);
      }
    };
    await ensureConsumer();
    const consumer = await this.js.consumers.get(stream, opts.durable);
    const loop = (async () => {
      while (!this.stopped) {
        try {
          const messages = await consumer.consume({ max_messages: Math.min(opts.maxAckPending ?? 1000, 256) });
          void this.restoreWhenMissing(messages, streamKey, opts.durable, ensureConsumer);
          for await (const msg of messages) {
            if (this.stopped) break;
            await this.handle(msg, opts);
          }
        } catch (err) {
          if (this.stopped) break;
          this.logger.warn({ err, durable: opts.durable }, 'consumer loop interrupted; resuming');
          await sleep(1000);
        }
      }
    })();
    this.loops.push(loop);
  }

  /**
   * A durable consumer deleted while the service runs (by an operator, a stream re-created, a test
   * resetting streams) would otherwise wait forever: re-create it, and its stream when that is gone
   * too, then restart consumption on it.
   */
  private async restoreWhenMissing(
    messages: ConsumerMessages,
    key: StreamKey,
    durable: string,
    ensureConsumer: () => Promise<void>,
  ): Promise<void> {
    for await (const status of messages.status()) {
      if (this.stopped) return;
      if (status.type !== 'consumer_deleted' && status.type !== 'consumer_not_found' && status.type !== 'stream_not_found') continue;
      try {
        await this.jsm.streams.info(STREAMS[key].name).catch(async (err: unknown) => {
          if (!isNotFound(err)) throw err;
          await this.ensureStreams([key], this.streamLimits);
        });
        await ensureConsumer();
        this.logger.warn({ durable, cause: status.type }, 'durable consumer was missing; re-created it');
        messages.stop(); // the consume loop starts again on the restored consumer
        return;
      } catch (err) {
        this.logger.warn({ err, durable, cause: status.type }, 'durable consumer is missing and cannot be re-created yet; will retry');
      }
    }
  }

  private async handle<S extends EventSubject>(msg: JsMsg, opts: ConsumeOptions<S>): Promise<void> {
    const subject = msg.subject as S;
    if (!opts.subjects.includes(subject)) {
      msg.ack();
      return;
    }
    const requestId = msg.headers?.get(HEADERS.requestId) || undefined;
    await runWithRequestId(requestId, async () => {
      let payload: EventPayload<S>;
      try {
        const parsed = EVENTS[subject].schema.safeParse(decodeJson(msg.data));
        if (!parsed.success) throw validationError(parsed.error);
        payload = parsed.data as EventPayload<S>;
      } catch (err) {
        // A message that can never be valid is terminated, not redelivered forever.
        this.logger.error({ err, subject, seq: msg.seq }, 'event breaks its contract; terminated');
        msg.term();
        return;
      }
      try {
        await opts.handler(payload, { subject, deliveryCount: msg.info.deliveryCount, msg });
        msg.ack();
      } catch (err) {
        const delay = Math.min(30_000, 500 * 2 ** Math.min(msg.info.deliveryCount, 6));
        this.logger.warn({ err, subject, seq: msg.seq, delivery: msg.info.deliveryCount, retry_in_ms: delay }, 'event handler failed; will retry');
        msg.nak(delay);
      }
    });
  }

  /**
   * A non-durable subscription to event subjects, for live fan-out where only new events matter
   * (every gateway replica gets every event).
   */
  subscribeLive<S extends EventSubject>(subjects: S[], handler: (payload: EventPayload<S>, subject: S) => void): void {
    for (const subject of subjects) {
      const sub = this.nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) return;
          try {
            const parsed = EVENTS[subject].schema.safeParse(decodeJson(msg.data));
            if (parsed.success) handler(parsed.data as EventPayload<S>, subject);
          } catch (e) {
            this.logger.warn({ err: e, subject }, 'live event dropped');
          }
        },
      });
      this.subs.push(sub);
    }
  }

  /**
   * Every replica sees every new event of the subjects, in order, from now on: an ordered consumer
   * of its own (ephemeral, no acks, in memory), which the client re-creates at the next sequence
   * after a disconnect, so nothing stored in the stream while this replica was away is missed. For
   * invalidations every replica must apply (revocations), where a queue group or a durable consumer
   * shared by replicas would reach only one of them. The stream is created when missing.
   */
  async follow<S extends EventSubject>(opts: FollowOptions<S>): Promise<void> {
    const key = EVENTS[opts.subjects[0]!].stream as StreamKey;
    const stream = STREAMS[key].name;
    await this.jsm.streams.info(stream).catch(async (err: unknown) => {
      if (!isNotFound(err)) throw err;
      await this.ensureStreams([key], this.streamLimits);
    });
    const consumer = await this.js.consumers.get(stream, { filter_subjects: filterFor(opts.subjects), deliver_policy: DeliverPolicy.New });
    const messages = await consumer.consume();
    this.followers.push(messages);
    const gap = (cause: string) => {
      if (this.stopped) return;
      this.logger.warn({ stream, cause }, 'events may have been missed; caches they invalidate are cleared');
      try {
        opts.onGap?.();
      } catch (err) {
        this.logger.error({ err, stream }, 'onGap failed');
      }
    };
    void (async () => {
      for await (const status of messages.status()) if (GAP_NOTIFICATIONS.has(status.type)) gap(status.type);
    })().catch(() => undefined);
    void (async () => {
      for await (const status of this.nc.status()) if (status.type === 'disconnect' || status.type === 'reconnect') gap(`nats ${status.type}`);
    })().catch(() => undefined);
    const loop = (async () => {
      for await (const msg of messages) {
        const subject = msg.subject as S;
        if (!opts.subjects.includes(subject)) continue;
        const parsed = EVENTS[subject].schema.safeParse(decodeJsonSafe(msg.data));
        if (!parsed.success) {
          this.logger.error({ subject, seq: msg.seq }, 'event breaks its contract; ignored');
          continue;
        }
        try {
          opts.handler(parsed.data as EventPayload<S>, subject);
        } catch (err) {
          this.logger.error({ err, subject, seq: msg.seq }, 'event handler failed');
        }
      }
    })().catch((err: unknown) => {
      if (!this.stopped) this.logger.error({ err, stream }, 'following events stopped');
    });
    this.loops.push(loop);
  }

  async ping(): Promise<void> {
    await this.nc.flush();
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const s of this.subs) s.unsubscribe();
    for (const f of this.followers) await f.close().catch(() => undefined);
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => undefined);
    // wait for in-flight handlers, at most 3 s; the timer must not keep the process alive afterwards
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(this.loops), new Promise((r) => (timer = setTimeout(r, 3000)))]);
    clearTimeout(timer);
  }
}

export function filterFor(subjects: readonly string[]): string {
  if (subjects.length === 1) return subjects[0]!;
  const split = subjects.map((s) => s.split('.'));
  const common: string[] = [];
  for (let i = 0; split.every((t) => i < t.length - 1 && t[i] === split[0]![i]); i++) common.push(split[0]![i]!);
  if (common.length === 0) throw new Error(`subjects ${subjects.join(', ')} share no prefix for one consumer`);
  return `${common.join('.')}.>`;
}

function decodeJsonSafe(data: Uint8Array): unknown {
  try {
    return decodeJson(data);
  } catch {
    return undefined;
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10059 || e?.api_error?.err_code === 10014 || e?.code === '404' || e?.code === 404 || /not found/i.test(e?.message ?? '');
}
function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}
