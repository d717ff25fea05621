// The writer's InfluxDB writes run side by side, at most WRITE_CONCURRENCY of them, and each
// acknowledges only its own messages (or naks them when InfluxDB fails). It writes the messages' bytes
// as they are, joined by newlines, and isolates the message InfluxDB refuses for good. Fakes stand in
// for JetStream and InfluxDB so that the test decides when each write answers.
import { Registry } from 'prom-client';
import pino from 'pino';
import type { JsMsg } from '@nats-io/jetstream';
import { encodePoint } from '@agentmon/contracts';
import { loadIngestConfig } from '../config.js';
import { ingestMetrics } from '../stats/ingest-metrics.js';
import { InfluxError, type InfluxClient } from './influx.client.js';
import { InfluxWriterService, countLines } from './influx-writer.service.js';
import { LocalBodies } from './local-bodies.js';

interface PendingWrite {
  body: string;
  lines: number;
  rp: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

class FakeInflux {
  readonly writes: PendingWrite[] = [];
  write(body: string | Uint8Array, rp: string): Promise<void> {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
    return new Promise((resolve, reject) => this.writes.push({ body: text, lines: text.split('\n').length, rp, resolve, reject }));
  }
}

class FakeMsg {
  state: 'open' | 'ack' | 'nak' | 'term' = 'open';
  readonly info = { deliveryCount: 1 };
  readonly headers: { get(key: string): string };
  constructor(
    readonly seq: number,
    readonly data: Uint8Array,
    msgId = `batch-${seq}:l0`,
  ) {
    this.headers = { get: (key) => (key === 'Nats-Msg-Id' ? msgId : '') };
  }
  working(): void {}
  ack(): void {
    this.state = 'ack';
  }
  nak(): void {
    this.state = 'nak';
  }
  term(): void {
    this.state = 'term';
  }
}

/** A lines message of the stream: `points` lines of the normal form. */
function message(seq: number, points: number, field = 'v'): FakeMsg {
  const lines = Array.from({ length: points }, (_, i) => encodePoint({ agent_id: `a${i % 7}`, measurement: 'm', tags: {}, fields: { [field]: i }, time: 1_700_000_000_000 + seq * points + i }));
  return new FakeMsg(seq, Buffer.from(lines.join('\n')));
}

const tick = () => new Promise((r) => setImmediate(r));
/** Waits (a bounded number of turns) until `done()` holds: bodies read from the stream arrive later. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await tick();
}

/**
 * A writer with fakes for InfluxDB and for the stream: `stream` holds the bodies JetStream would
 * answer a read by sequence with (a headers-only message whose body this process does not hold).
 */
function writer(influx: FakeInflux, concurrency: number, batchSize = 100, stream = new Map<number, Uint8Array>()) {
  const config = loadIngestConfig({ WRITE_BATCH_SIZE: String(batchSize), WRITE_FLUSH_MS: '60000', WRITE_CONCURRENCY: String(concurrency) });
  const reads: number[] = [];
  const bus = {
    jsm: {
      streams: {
        getMessage: async (_stream: string, { seq }: { seq: number }) => {
          reads.push(seq);
          const data = stream.get(seq);
          return data === undefined ? null : { data };
        },
      },
    },
  };
  const bodies = new LocalBodies(config);
  const metrics = ingestMetrics(new Registry());
  const svc = new InfluxWriterService(bus as never, influx as unknown as InfluxClient, {} as never, config, metrics, pino({ level: 'silent' }), bodies);
  // the consumer loop hands every message to accept(); the test does it itself
  const accept = (m: FakeMsg) => (svc as unknown as { accept(m: JsMsg): Promise<void> }).accept(m as unknown as JsMsg);
  const flush = () => (svc as unknown as { flush(): Promise<void> }).flush();
  return { svc, accept, flush, bodies, reads, metrics };
}

/** The message as a headers-only consumer delivers it: no body. */
const headersOnly = (m: FakeMsg) => new FakeMsg(m.seq, new Uint8Array(0));

describe('InfluxDB writer concurrency', () => {
  it('runs up to WRITE_CONCURRENCY writes at once, and the next full buffer waits for one of them', async () => {
    const influx = new FakeInflux();
    const { accept } = writer(influx, 2);
    const msgs = [1, 2, 3].map((s) => message(s, 100));
    await accept(msgs[0]!);
    expect(influx.writes).toHaveLength(1);
    // the second full buffer starts a second write, and accepting waits: two are in flight
    let secondDone = false;
    const second = accept(msgs[1]!).then(() => (secondDone = true));
    await tick();
    expect(influx.writes).toHaveLength(2);
    expect(secondDone).toBe(false);
    // one write answers: room for the next message, whose write starts at once
    influx.writes[0]!.resolve();
    await second;
    expect(msgs.map((m) => m.state)).toEqual(['ack', 'open', 'open']);
    const third = accept(msgs[2]!);
    await tick();
    expect(influx.writes).toHaveLength(3);
    influx.writes[2]!.resolve();
    influx.writes[1]!.resolve();
    await third;
    await tick();
    expect(msgs.map((m) => m.state)).toEqual(['ack', 'ack', 'ack']);
    expect(influx.writes.map((w) => w.lines)).toEqual([100, 100, 100]);
  });

  it('acknowledges each write on its own: a failed write naks only its messages', async () => {
    const influx = new FakeInflux();
    const { accept } = writer(influx, 4);
    const msgs = [1, 2, 3].map((s) => message(s, 100));
    for (const m of msgs) await accept(m);
    expect(influx.writes).toHaveLength(3);
    influx.writes[1]!.reject(new InfluxError('InfluxDB is unreachable', null, true));
    influx.writes[0]!.resolve();
    influx.writes[2]!.resolve();
    await tick();
    await tick();
    expect(msgs.map((m) => m.state)).toEqual(['ack', 'nak', 'ack']);
  });

  it('with WRITE_CONCURRENCY=1 writes one after another, as before', async () => {
    const influx = new FakeInflux();
    const { accept } = writer(influx, 1);
    const first = accept(message(1, 100));
    await tick();
    expect(influx.writes).toHaveLength(1);
    let done = false;
    void first.then(() => (done = true));
    await tick();
    expect(done).toBe(false);
    influx.writes[0]!.resolve();
    await first;
    const second = accept(message(2, 100));
    await tick();
    expect(influx.writes).toHaveLength(2);
    influx.writes[1]!.resolve();
    await second;
  });
});

describe('InfluxDB writer: the bytes of the stream', () => {
  it('writes the messages as they are, joined by newlines, into raw (the client sends precision=ms), once they hold WRITE_BATCH_SIZE lines', async () => {
    const influx = new FakeInflux();
    const { accept } = writer(influx, 4, 100);
    const msgs = [message(1, 40), message(2, 40), message(3, 40)];
    await accept(msgs[0]!);
    await accept(msgs[1]!);
    expect(influx.writes).toHaveLength(0); // 80 lines: not yet
    await accept(msgs[2]!);
    expect(influx.writes).toHaveLength(1);
    expect(influx.writes[0]!.rp).toBe('raw');
    expect(influx.writes[0]!.body).toBe(msgs.map((m) => Buffer.from(m.data).toString()).join('\n'));
    influx.writes[0]!.resolve();
    await tick();
    expect(msgs.map((m) => m.state)).toEqual(['ack', 'ack', 'ack']);
  });

  it('counts the lines of a message', () => {
    expect([countLines(Buffer.from('a')), countLines(Buffer.from('a\nb')), countLines(message(1, 250).data)]).toEqual([1, 2, 250]);
  });

  it('terminates a message that is not UTF-8 without writing it', async () => {
    const influx = new FakeInflux();
    // the stream holds an empty message 2 (a headers-only delivery reads it there)
    const { accept, flush } = writer(influx, 4, 100, new Map([[2, new Uint8Array(0)]]));
    const bad = new FakeMsg(1, Uint8Array.from([0x6d, 0x20, 0xff, 0xfe]));
    const empty = new FakeMsg(2, new Uint8Array(0));
    await accept(bad);
    await accept(empty);
    await flush();
    expect([bad.state, empty.state]).toEqual(['term', 'term']);
    expect(influx.writes).toHaveLength(0);
  });

  it('when InfluxDB refuses part of a write for good, writes each message alone and terminates only the refused one', async () => {
    const influx = new FakeInflux();
    const { accept } = writer(influx, 4, 90);
    const msgs = [message(1, 30), message(2, 30, 'conflicting'), message(3, 30)];
    for (const m of msgs) await accept(m);
    expect(influx.writes).toHaveLength(1);
    influx.writes[0]!.reject(new InfluxError('InfluxDB write answered 400: partial write: field type conflict', 400, false));
    for (let k = 1; k <= 3; k++) {
      while (influx.writes.length <= k) await tick();
      const w = influx.writes[k]!;
      expect(w.body).toBe(Buffer.from(msgs[k - 1]!.data).toString());
      if (w.body.includes('conflicting')) w.reject(new InfluxError('InfluxDB write answered 400: partial write: field type conflict', 400, false));
      else w.resolve();
    }
    while (msgs.some((m) => m.state === 'open')) await tick();
    expect(msgs.map((m) => m.state)).toEqual(['ack', 'term', 'ack']);
  });

  it('naks what is not settled yet when InfluxDB fails while the messages are written one by one', async () => {
    const influx = new FakeInflux();
    const { accept } = writer(influx, 4, 60);
    const msgs = [message(1, 30), message(2, 30)];
    for (const m of msgs) await accept(m);
    influx.writes[0]!.reject(new InfluxError('InfluxDB write answered 400: unable to parse', 400, false));
    while (influx.writes.length < 2) await tick();
    influx.writes[1]!.resolve();
    while (influx.writes.length < 3) await tick();
    influx.writes[2]!.reject(new InfluxError('InfluxDB is unreachable', null, true));
    while (msgs.some((m) => m.state === 'open')) await tick();
    expect(msgs.map((m) => m.state)).toEqual(['ack', 'nak']);
  });
});

describe('InfluxDB writer: bodies of a headers-only consumer', () => {
  it('takes the body this process stored from memory, and reads the stream for one it does not hold', async () => {
    const influx = new FakeInflux();
    const local = message(1, 50);
    const remote = message(2, 50);
    const { accept, bodies, reads, metrics } = writer(influx, 4, 100, new Map([[2, remote.data]]));
    bodies.put(1, 'batch-1:l0', local.data);
    const delivered = [headersOnly(local), headersOnly(remote)];
    for (const m of delivered) await accept(m);
    await until(() => influx.writes.length > 0);
    expect(influx.writes).toHaveLength(1);
    expect(influx.writes[0]!.body).toBe(`${Buffer.from(local.data).toString()}\n${Buffer.from(remote.data).toString()}`);
    // only the body it did not hold was read from the stream, and the handed-over one is released
    expect(reads).toEqual([2]);
    expect(bodies.size).toBe(0);
    expect((await metrics.bodiesFetched.get()).values[0]!.value).toBe(1);
    influx.writes[0]!.resolve();
    await tick();
    expect(delivered.map((m) => m.state)).toEqual(['ack', 'ack']);
  });

  it('waits for its own publish of a message that arrives before the publisher read the acknowledgement', async () => {
    const influx = new FakeInflux();
    const m = message(7, 100);
    const { accept, bodies, reads } = writer(influx, 4, 100, new Map([[7, m.data]]));
    let acknowledge!: () => void;
    void bodies.track(
      'batch-7:l0',
      new Promise<void>((r) => (acknowledge = r)).then(() => bodies.put(7, 'batch-7:l0', m.data)),
    );
    await accept(headersOnly(m));
    await tick();
    expect(influx.writes).toHaveLength(0);
    acknowledge();
    await until(() => influx.writes.length > 0);
    expect(influx.writes).toHaveLength(1);
    expect(reads).toEqual([]);
  });

  it('reads a message another replica accepted at once, whatever this one is publishing, and takes the next ones meanwhile', async () => {
    const influx = new FakeInflux();
    const m = message(8, 100);
    const { accept, bodies, reads } = writer(influx, 4, 100, new Map([[8, m.data]]));
    // a publish of this process that never ends: the writer must not wait for it
    void bodies.track('batch-other:l0', new Promise<void>(() => undefined));
    await accept(headersOnly(m));
    await until(() => influx.writes.length > 0);
    expect(reads).toEqual([8]);
    expect(influx.writes).toHaveLength(1);
  });

  it('takes the next messages while bodies are read from the stream, at most 32 reads at once', async () => {
    const influx = new FakeInflux();
    const { accept, svc } = writer(influx, 4, 10_000);
    let answer!: () => void;
    const answered = new Promise<void>((r) => (answer = r));
    const asked: number[] = [];
    (svc as unknown as { bus: { jsm: { streams: { getMessage: (s: string, o: { seq: number }) => Promise<{ data: Uint8Array }> } } } }).bus.jsm.streams.getMessage = async (_s, { seq }) => {
      asked.push(seq);
      await answered;
      return { data: message(seq, 10).data };
    };
    for (let seq = 1; seq <= 31; seq++) await accept(headersOnly(message(seq, 10)));
    expect(asked).toHaveLength(31);
    // the 32nd read is one too many: taking the next message waits for one of them
    let took = false;
    const next = accept(headersOnly(message(32, 10))).then(() => (took = true));
    await tick();
    expect([asked.length, took]).toEqual([32, false]);
    answer();
    await next;
    expect(took).toBe(true);
  });

  it('terminates a message the stream no longer holds, and naks one it could not read', async () => {
    const influx = new FakeInflux();
    const { accept, svc } = writer(influx, 4);
    const gone = headersOnly(message(3, 10));
    await accept(gone);
    await until(() => gone.state !== 'open');
    expect(gone.state).toBe('term');
    (svc as unknown as { bus: { jsm: { streams: { getMessage: () => Promise<never> } } } }).bus.jsm.streams.getMessage = () => Promise.reject(new Error('TIMEOUT'));
    const unreadable = headersOnly(message(4, 10));
    await accept(unreadable);
    await until(() => unreadable.state !== 'open');
    expect(unreadable.state).toBe('nak');
    expect(influx.writes).toHaveLength(0);
  });

  it('keeps the bodies of a failed write for their redelivery', async () => {
    const influx = new FakeInflux();
    const m = message(5, 100);
    const { accept, bodies, reads, svc } = writer(influx, 4);
    bodies.put(5, 'batch-5:l0', m.data);
    const first = headersOnly(m);
    await accept(first);
    influx.writes[0]!.reject(new InfluxError('InfluxDB is unreachable', null, true));
    while (first.state === 'open') await tick();
    expect(first.state).toBe('nak');
    expect(bodies.size).toBe(m.data.length);
    // the redelivery (after the writer's pause) finds it in memory: nothing is read from the stream
    (svc as unknown as { pausedUntil: number }).pausedUntil = 0;
    const again = headersOnly(m);
    await accept(again);
    expect(influx.writes[1]!.body).toBe(Buffer.from(m.data).toString());
    expect(reads).toEqual([]);
  });
});
