import { STREAMS, type TelemetryAgents } from '@agentmon/contracts';
import { createLogger } from '@agentmon/observability';
import { pino } from 'pino';
import { EventBus, RetryLater, encodeJson, type BatchItem } from '@agentmon/messaging';
import { TEST_INFRA } from '../../../test/support/test-env.js';
import { resetStreams } from '../../../test/support/nats.js';

type Subject = 'evt.ingest.telemetry.agents.v1';
const SUBJECT: Subject = 'evt.ingest.telemetry.agents.v1';

describe('EventBus.consumeBatches (real NATS JetStream)', () => {
  const logger = createLogger('messaging-test', (process.env.TEST_LOG_LEVEL as 'warn') ?? 'silent');
  let bus: EventBus;
  let durables = 0;
  let durable: string;

  beforeEach(async () => {
    await resetStreams(TEST_INFRA.natsUrl);
    bus = await EventBus.connect(TEST_INFRA.natsUrl, 'messaging-batches-test', logger);
    await bus.ensureStreams(['TELEMETRY']);
    durable = `batches-test-${++durables}`;
  });

  afterEach(async () => {
    await bus?.close();
  });

  const message = (batchId: string): TelemetryAgents => ({ batch_id: batchId, received_at: Date.now(), source: 'json', agents: [{ id: `agent-${batchId}` }] });
  /** Publishes the messages together (the client sends them in one write); answers their batch ids in stream order. */
  async function publish(ids: string[]): Promise<string[]> {
    const acks = await Promise.all(ids.map((id) => bus.publish(SUBJECT, message(id), { msgId: id })));
    return ids.map((id, i) => [id, acks[i]!.seq] as const).sort((a, b) => a[1] - b[1]).map(([id]) => id);
  }

  async function eventually<T>(fn: () => T | Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
    const until = Date.now() + ms;
    let last = await fn();
    while (!ok(last)) {
      if (Date.now() > until) throw new Error(`condition not met; last value ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 50));
      last = await fn();
    }
    return last;
  }

  /** This test's durable consumer of SUBJECT, in batches (10 messages, 300 ms unless said otherwise). */
  const consume = (handler: (items: BatchItem<typeof SUBJECT>[]) => Promise<void>, opts: { maxBatch?: number; maxWaitMs?: number } = {}) =>
    bus.consumeBatches({ durable, subjects: [SUBJECT], maxBatch: 10, maxWaitMs: 300, ...opts, handler });

  /** Every message of the stream was acknowledged (or terminated) and none awaits delivery. */
  const settled = () =>
    eventually(
      () => bus.jsm.consumers.info(STREAMS.TELEMETRY.name, durable),
      (ci) => ci.num_ack_pending === 0 && ci.num_pending === 0,
    );

  it('hands a backlog over in batches of at most maxBatch, in stream order, each message once', async () => {
    const published = await publish(Array.from({ length: 25 }, (_, i) => `backlog-${i}`));
    const batches: BatchItem<Subject>[][] = [];
    // a wait far longer than the backlog takes to arrive: only maxBatch ends the first batches
    await consume(async (items) => void batches.push(items), { maxWaitMs: 2000 });
    await eventually(() => batches.flat().length, (n) => n >= 25);
    await settled();
    expect(batches.flat().map((i) => i.payload.batch_id)).toEqual(published);
    expect(batches.every((b) => b.length >= 1 && b.length <= 10)).toBe(true);
    expect(batches[0]).toHaveLength(10);
    expect(batches.flat().every((i) => i.subject === SUBJECT && i.deliveryCount === 1)).toBe(true);
  });

  it('delivers a lone message though no other comes to fill its batch', async () => {
    const batches: string[][] = [];
    await consume(async (items) => void batches.push(items.map((i) => i.payload.batch_id)), { maxBatch: 100, maxWaitMs: 50 });
    await publish(['alone']);
    await eventually(() => batches, (b) => b.length === 1);
    expect(batches).toEqual([['alone']]);
    await settled();
  });

  it('redelivers every message of a batch whose handler failed, and acknowledges them once it succeeds', async () => {
    const published = await publish(Array.from({ length: 6 }, (_, i) => `retry-${i}`));
    const calls: { ids: string[]; deliveries: number[]; failed: boolean }[] = [];
    await consume(async (items) => {
      const failed = calls.length === 0;
      calls.push({ ids: items.map((i) => i.payload.batch_id), deliveries: items.map((i) => i.deliveryCount), failed });
      if (failed) throw new Error('the database is away');
    });
    // the failed batch comes back (after consume's backoff, 1 s for a first delivery) and succeeds
    const handled = () => new Set(calls.filter((c) => !c.failed).flatMap((c) => c.ids));
    await eventually(() => handled().size, (n) => n === published.length);
    await settled();
    const failed = calls[0]!;
    expect(failed.ids.length).toBeGreaterThanOrEqual(1);
    expect(failed.deliveries.every((d) => d === 1)).toBe(true);
    // each message of the failed batch was handed over again, as a redelivery, in a batch of its own
    const again = calls.slice(1).filter((c) => c.ids.some((id) => failed.ids.includes(id)));
    expect(again.flatMap((c) => c.ids).sort()).toEqual([...failed.ids].sort());
    expect(again.every((c) => c.ids.length === 1 && c.deliveries[0]! >= 2)).toBe(true);
    // and once handled nothing was handed over again: after the failure each message was handled once
    expect(calls.slice(1).flatMap((c) => c.ids).sort()).toEqual([...published].sort());
  });

  it('redelivers a batch whose handler answers RetryLater, logged as not ready rather than as a failure', async () => {
    const logged: { level: string; msg: string }[] = [];
    const recording = pino({ level: 'debug', messageKey: 'msg', formatters: { level: (label) => ({ level: label }) } }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    await bus.close();
    bus = await EventBus.connect(TEST_INFRA.natsUrl, 'messaging-batches-test', recording);
    const published = await publish(['later-0', 'later-1']);
    const calls: { ids: string[]; deliveries: number[] }[] = [];
    await consume(
      async (items) => {
        calls.push({ ids: items.map((i) => i.payload.batch_id), deliveries: items.map((i) => i.deliveryCount) });
        if (calls.length === 1) throw new RetryLater('the registry does not know agent-later-0 yet', 200);
      },
      { maxWaitMs: 500 },
    );
    await eventually(() => new Set(calls.slice(1).flatMap((c) => c.ids)).size, (n) => n === published.length);
    await settled();
    expect(calls[0]!.deliveries.every((d) => d === 1)).toBe(true);
    expect(calls.slice(1).filter((c) => c.ids.some((id) => calls[0]!.ids.includes(id))).every((c) => c.deliveries.every((d) => d === 2))).toBe(true);
    expect(logged.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    expect(logged.filter((l) => l.msg === 'event batch not ready; will retry')).toHaveLength(1);
  });

  it('keeps a message its handler can never take from holding back the others of its batch', async () => {
    const published = await publish(['fine-1', 'fine-2', 'poison', 'fine-3']);
    const handled: string[] = [];
    const poisonDeliveries: number[] = [];
    await consume(async (items) => {
      const poison = items.find((i) => i.payload.batch_id === 'poison');
      if (poison) {
        poisonDeliveries.push(poison.deliveryCount);
        throw new Error('the database refuses this one');
      }
      handled.push(...items.map((i) => i.payload.batch_id));
    });
    // the others come back alone and succeed; the poison keeps failing by itself
    await eventually(() => handled.length, (n) => n >= 3);
    await eventually(() => poisonDeliveries.length, (n) => n >= 2);
    const ci = await eventually(
      () => bus.jsm.consumers.info(STREAMS.TELEMETRY.name, durable),
      (c) => c.num_ack_pending === 1 && c.num_pending === 0,
    );
    expect(ci.ack_floor.stream_seq).toBe(published.indexOf('poison'));
    expect(handled.sort()).toEqual(['fine-1', 'fine-2', 'fine-3']);
    expect(poisonDeliveries.slice(0, 2)).toEqual([1, 2]);
  });

  it('terminates a message that breaks its contract on its own, without failing the others of its batch', async () => {
    const batches: string[][] = [];
    // what the server announces for each message a consumer terminated
    const terminated: number[] = [];
    const advisories = bus.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${STREAMS.TELEMETRY.name}.${durable}`, {
      callback: (_err, msg) => void terminated.push((msg.json() as { stream_seq: number }).stream_seq),
    });
    await bus.nc.flush();
    // a backlog, so that one batch collects them all: two valid, one that no schema accepts (written
    // raw, past publish's check), two valid
    const acks = [];
    for (const id of ['good-1', 'good-2']) acks.push(await bus.publish(SUBJECT, message(id), { msgId: id }));
    acks.push(await bus.publishRaw(SUBJECT, encodeJson({ batch_id: 42, agents: 'none' }), 'broken'));
    for (const id of ['good-3', 'good-4']) acks.push(await bus.publish(SUBJECT, message(id), { msgId: id }));
    await consume(async (items) => void batches.push(items.map((i) => i.payload.batch_id)));
    await eventually(() => batches.flat().length, (n) => n >= 4);
    // terminated counts as settled: the broken message is neither pending nor redelivered
    const ci = await settled();
    await eventually(() => terminated, (t) => t.length >= 1);
    advisories.unsubscribe();
    expect(terminated).toEqual([acks[2]!.seq]);
    expect(batches.flat()).toEqual(['good-1', 'good-2', 'good-3', 'good-4']);
    // nothing was negatively acknowledged: the valid messages were handled at their first delivery
    expect(ci.num_redelivered).toBe(0);
  });

  it('refuses limits that could never fill a batch', async () => {
    const handler = async () => undefined;
    await expect(bus.consumeBatches({ durable, subjects: [SUBJECT], maxBatch: 0, handler })).rejects.toThrow(RangeError);
    await expect(bus.consumeBatches({ durable, subjects: [SUBJECT], maxBatch: 100, maxAckPending: 50, handler })).rejects.toThrow(/maxAckPending/);
  });
});
