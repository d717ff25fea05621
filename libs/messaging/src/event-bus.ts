import { connect, headers as natsHeaders, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  PubHeaders,
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
  TelemetryLines,
  validationError,
  type EventPayload,
  type EventPayloadInput,
  type EventSubject,
  type StreamKey,
} from '@agentmon/contracts';
import { currentRequestId, runWithRequestId } from '@agentmon/observability';
import { batchesOf, isolate } from './batches.js';
import { decodeJson, encodeJson } from './codec.js';
import { natsConnectionOptions, type NatsTlsOptions } from './nats-tls.js';
import { JetStreamPublisher } from './jetstream-publisher.js';

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

/**
 * Thrown by a consumer's handler for a message that is not ready to be handled yet (not a failure):
 * the message (with the rest of its batch) is redelivered after `delayMs`, logged at debug level.
 */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

/** A durable consumer: what consume and consumeBatches share. */
interface DurableOptions<S extends EventSubject> {
  /** durable consumer name: one per consuming service, shared by its replicas */
  durable: string;
  subjects: S[];
  maxAckPending?: number;
  ackWaitMs?: number;
  /** where a new consumer starts: everything still in the stream, or only new messages */
  deliverNew?: boolean;
}

export interface ConsumeOptions<S extends EventSubject> extends DurableOptions<S> {
  handler: (payload: EventPayload<S>, meta: { subject: S; deliveryCount: number; msg: JsMsg }) => Promise<void>;
}

/** One message of a batch: its subject with the payload its contract checked. */
export type BatchItem<S extends EventSubject> = { [K in S]: { subject: K; payload: EventPayload<K>; deliveryCount: number } }[S];

export interface ConsumeBatchesOptions<S extends EventSubject> extends DurableOptions<S> {
  /**
   * Called with up to maxBatch valid messages, in stream order. When it resolves every message of
   * the batch is acknowledged; when it throws every one is redelivered (with the backoff of consume).
   */
  handler: (items: BatchItem<S>[]) => Promise<void>;
  /** messages per batch at most (default 256) */
  maxBatch?: number;
  /** how long a batch waits for more after its first message, in ms (default 100) */
  maxWaitMs?: number;
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
  private readonly publisher: JetStreamPublisher;

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    private readonly logger: Logger,
  ) {
    this.publisher = new JetStreamPublisher(nc);
  }

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
    return this.publishRaw(subject, encodeEvent(subject, parsed.data), opts.msgId);
  }

  /**
   * Publishes bytes already validated and encoded by the caller (the ingest hot path); resolves once
   * JetStream has stored them. `msgId` is the de-duplication id (`Nats-Msg-Id`).
   */
  async publishRaw(subject: EventSubject, data: Uint8Array, msgId?: string): Promise<PubAck> {
    const hdrs = natsHeaders();
    const requestId = currentRequestId();
    if (requestId) hdrs.set(HEADERS.requestId, requestId);
    if (msgId) hdrs.set(PubHeaders.MsgIdHdr, msgId);
    return this.publisher.publish(subject, data, hdrs);
  }

  /** Ensures a durable consumer and processes its messages one at a time until close(). */
  async consume<S extends EventSubject>(opts: ConsumeOptions<S>): Promise<void> {
    await this.runDurable(opts, Math.min(opts.maxAckPending ?? 1000, 256), async (messages) => {
      for await (const msg of messages) {
        if (this.stopped) break;
        await this.handle(msg, opts);
      }
    });
  }

  /**
   * Ensures a durable consumer (as consume does) and hands its messages to the handler in batches
   * until close(): a batch holds up to maxBatch valid messages, collected until it is full or
   * maxWaitMs after its first message arrived (batchesOf). Batches are handled one after the other.
   * A message that breaks its contract is terminated on its own as it arrives; the others of its
   * batch are not affected. Every message of a batch is acknowledged after the handler resolves (the
   * acks of one batch leave in one socket write: the client sends what is queued in one tick
   * together), or negatively acknowledged, each with consume's backoff, when it throws.
   *
   * A message delivered again (its batch failed, or its ack wait ran out) is handed over in a batch
   * of its own: a message the handler can never take then keeps failing by itself, as with consume,
   * instead of taking every batch it lands in down with it. (After an outage this costs one handler
   * call per message redelivered, at most maxAckPending of them.)
   *
   * The handler runs with the request id its messages carry when they all carry the same one, else
   * with a new one; a failure logs the request ids of the whole batch.
   */
  async consumeBatches<S extends EventSubject>(opts: ConsumeBatchesOptions<S>): Promise<void> {
    const maxBatch = opts.maxBatch ?? 256;
    const maxWaitMs = opts.maxWaitMs ?? 100;
    const maxAckPending = opts.maxAckPending ?? Math.max(1000, maxBatch);
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    if (!(maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be at least 0, got ${maxWaitMs}`);
    // the server delivers no more than maxAckPending unacknowledged messages: a smaller value would
    // keep every batch from filling, and each would wait maxWaitMs
    if (maxAckPending < maxBatch) throw new RangeError(`maxAckPending (${maxAckPending}) must be at least maxBatch (${maxBatch})`);
    await this.runDurable({ ...opts, maxAckPending }, Math.min(maxAckPending, Math.max(256, maxBatch)), async (messages) => {
      for await (const collected of batchesOf(this.admitted(messages, opts.subjects), maxBatch, maxWaitMs)) {
        for (const batch of isolate(collected, redelivered)) {
          if (this.stopped) return;
          await this.handleBatch(batch, opts);
        }
      }
    });
  }

  /**
   * Creates the durable consumer or brings its settings up to date, then runs `drain` on its
   * messages (pulled `pull` at a time) until close(), starting again after an interruption or when
   * the consumer had to be restored.
   */
  private async runDurable<S extends EventSubject>(
    opts: DurableOptions<S>,
    pull: number,
    drain: (messages: ConsumerMessages) => Promise<void>,
  ): Promise<void> {
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
          const messages = await consumer.consume({ max_messages: pull });
          void this.restoreWhenMissing(messages, streamKey, opts.durable, ensureConsumer);
          await drain(messages);
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
    const admitted = this.admit(msg, opts.subjects);
    if (!admitted) return;
    await runWithRequestId(requestIdOf(msg), async () => {
      try {
        await opts.handler(admitted.payload, { subject: admitted.subject, deliveryCount: msg.info.deliveryCount, msg });
        msg.ack();
      } catch (err) {
        if (err instanceof RetryLater) {
          this.logger.debug({ reason: err.message, subject: admitted.subject, seq: msg.seq, retry_in_ms: err.delayMs }, 'event not ready; will retry');
          msg.nak(err.delayMs);
          return;
        }
        const delay = retryDelayMs(msg.info.deliveryCount);
        this.logger.warn({ err, subject: admitted.subject, seq: msg.seq, delivery: msg.info.deliveryCount, retry_in_ms: delay }, 'event handler failed; will retry');
        msg.nak(delay);
      }
    });
  }

  private async handleBatch<S extends EventSubject>(batch: Admitted<S>[], opts: ConsumeBatchesOptions<S>): Promise<void> {
    const requestIds = new Set(batch.map((a) => requestIdOf(a.msg)));
    const [only] = requestIds;
    await runWithRequestId(requestIds.size === 1 ? only : undefined, async () => {
      try {
        await opts.handler(batch.map((a) => ({ subject: a.subject, payload: a.payload, deliveryCount: a.msg.info.deliveryCount }) as BatchItem<S>));
      } catch (err) {
        if (err instanceof RetryLater) {
          this.logger.debug({ reason: err.message, durable: opts.durable, messages: batch.length, retry_in_ms: err.delayMs }, 'event batch not ready; will retry');
          for (const a of batch) a.msg.nak(err.delayMs);
          return;
        }
        this.logger.warn(
          {
            err,
            durable: opts.durable,
            messages: batch.length,
            seqs: batch.map((a) => a.msg.seq),
            request_ids: [...requestIds].filter((id) => id !== undefined),
          },
          'event batch handler failed; every message of the batch will be retried',
        );
        for (const a of batch) a.msg.nak(retryDelayMs(a.msg.info.deliveryCount));
        return;
      }
      for (const a of batch) a.msg.ack();
    });
  }

  /** The messages of a durable consumer that are for its handler (admit), in order. */
  private async *admitted<S extends EventSubject>(messages: AsyncIterable<JsMsg>, subjects: readonly S[]): AsyncGenerator<Admitted<S>> {
    for await (const msg of messages) {
      const admitted = this.admit(msg, subjects);
      if (admitted) yield admitted;
    }
  }

  /**
   * A message with its subject and the payload its contract checked; undefined for a message the
   * handler never sees: one of another subject under the consumer's filter (acknowledged), or one
   * that breaks its contract (terminated: it can never be valid, so it is not redelivered forever).
   */
  private admit<S extends EventSubject>(msg: JsMsg, subjects: readonly S[]): Admitted<S> | undefined {
    const subject = msg.subject as S;
    if (!subjects.includes(subject)) {
      msg.ack();
      return undefined;
    }
    try {
      const parsed = EVENTS[subject].schema.safeParse(decodeEvent(subject, msg.data));
      if (!parsed.success) throw validationError(parsed.error);
      return { msg, subject, payload: parsed.data as EventPayload<S> };
    } catch (err) {
      runWithRequestId(requestIdOf(msg), () => this.logger.error({ err, subject, seq: msg.seq }, 'event breaks its contract; terminated'));
      msg.term();
      return undefined;
    }
  }

  /**
   * A non-durable subscription to event subjects, for live fan-out where only new events matter
   * (every gateway replica gets every event). Returns what ends it.
   */
  subscribeLive<S extends EventSubject>(subjects: S[], handler: (payload: EventPayload<S>, subject: S) => void): () => void {
    const mine: Subscription[] = [];
    for (const subject of subjects) {
      const sub = this.nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) return;
          try {
            const parsed = EVENTS[subject].schema.safeParse(decodeEvent(subject, msg.data));
            if (parsed.success) handler(parsed.data as EventPayload<S>, subject);
          } catch (e) {
            this.logger.warn({ err: e, subject }, 'live event dropped');
          }
        },
      });
      this.subs.push(sub);
      mine.push(sub);
    }
    /** ends these subscriptions (a live view nobody watches costs nothing) */
    return () => {
      for (const sub of mine) {
        sub.unsubscribe();
        const at = this.subs.indexOf(sub);
        if (at >= 0) this.subs.splice(at, 1);
      }
    };
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
        const parsed = EVENTS[subject].schema.safeParse(decodeEventSafe(subject, msg.data));
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

  /**
   * Deletes durable consumers a service no longer uses (a durable's filter subject cannot always be
   * changed in place on NATS 2.9, so a consumer that now reads another subject gets a new name, and
   * the old one would keep every message pending for nobody). `onlyWhenDrained`: a consumer with
   * messages still pending or unacknowledged is kept (an older replica may still be working through
   * them during a rolling upgrade) and reported; with `orUnused` it is deleted all the same once no
   * client pulls from it and nothing it delivered waits for an acknowledgement (no older replica is
   * left, and what it still holds is read by its successor). Returns the durables kept.
   */
  async retireConsumers(key: StreamKey, durables: readonly string[], opts: { onlyWhenDrained?: boolean; orUnused?: boolean } = {}): Promise<string[]> {
    const stream = STREAMS[key].name;
    const kept: string[] = [];
    for (const durable of durables) {
      try {
        if (opts.onlyWhenDrained) {
          const info = await this.jsm.consumers.info(stream, durable);
          const backlog = info.num_pending + info.num_ack_pending;
          // `orUnused`: nobody pulls from it (a running consumer always has a pull request waiting)
          // and nothing it delivered waits for an acknowledgement
          const unused = opts.orUnused === true && info.num_waiting === 0 && info.num_ack_pending === 0;
          if (backlog > 0 && !unused) {
            this.logger.warn({ durable, backlog }, 'a retired consumer still has messages to process; it stays until an older replica has processed them');
            kept.push(durable);
            continue;
          }
        }
        await this.jsm.consumers.delete(stream, durable);
        this.logger.info({ durable }, 'deleted a retired durable consumer');
      } catch (err) {
        if (isNotFound(err)) continue;
        this.logger.warn({ err, durable }, 'could not delete a retired durable consumer; will try at the next start');
        kept.push(durable);
      }
    }
    return kept;
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

/** The payload of an event as its schema checks it: JSON, or line protocol wrapped unread (TelemetryLines). */
export function decodeEvent(subject: EventSubject, data: Uint8Array): unknown {
  const def = EVENTS[subject] as { codec?: 'lines' | 'lines-br' };
  if (def.codec === 'lines') return new TelemetryLines(data);
  if (def.codec === 'lines-br') return TelemetryLines.fromCompressed(data);
  return decodeJson(data);
}

function encodeEvent(subject: EventSubject, payload: unknown): Uint8Array {
  const def = EVENTS[subject] as { codec?: 'lines' | 'lines-br' };
  if (def.codec === 'lines') return (payload as TelemetryLines).data;
  if (def.codec === 'lines-br') return (payload as TelemetryLines).compressed;
  return encodeJson(payload);
}

function decodeEventSafe(subject: EventSubject, data: Uint8Array): unknown {
  try {
    return decodeEvent(subject, data);
  } catch {
    return undefined;
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10059 || e?.api_error?.err_code === 10014 || e?.code === '404' || e?.code === 404 || /not found/i.test(e?.message ?? '');
}
/** A message of a durable consumer that its handler will see. */
interface Admitted<S extends EventSubject> {
  msg: JsMsg;
  subject: S;
  payload: EventPayload<S>;
}

function redelivered(a: Admitted<EventSubject>): boolean {
  return a.msg.redelivered;
}

function requestIdOf(msg: JsMsg): string | undefined {
  return msg.headers?.get(HEADERS.requestId) || undefined;
}

/** How long a message whose handler failed waits before its next delivery: 1 s, 2 s, 4 s ... 30 s. */
function retryDelayMs(deliveryCount: number): number {
  return Math.min(30_000, 500 * 2 ** Math.min(deliveryCount, 6));
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}
