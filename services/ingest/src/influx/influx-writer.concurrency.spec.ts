// The writer's InfluxDB writes run side by side, at most WRITE_CONCURRENCY of them, and each
// acknowledges only its own messages (or naks them when InfluxDB fails), marking in progress those
// whose acknowledgement wait the write could outlast. It writes the messages' bytes
// as they are, joined by newlines (decompressing a compressed one, unless this replica kept its lines),
// and isolates the message InfluxDB refuses for good. Fakes stand in
// for JetStream and InfluxDB so that the test decides when each write answers.
import { Registry } from 'prom-client';
import pino from 'pino';
import type { JsMsg } from '@nats-io/jetstream';
import { compressLines, encodePoint } from '@agentmon/contracts';
import { loadIngestConfig } from '../config.js';
import { ingestMetrics } from '../stats/ingest-metrics.js';
import { InfluxError, type InfluxClient } from './influx.client.js';
import { InfluxWriterService, countLines } from './influx-writer.service.js';
import { OwnLines } from './own-lines.js';

interface PendingWrite {
  body: string;
  lines: number;
  rp: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

class FakeInflux {
  readonly timeoutMs = 10_000;
  readonly writes: PendingWrite[] = [];
  write(body: string | Uint8Array | readonly Uint8Array[], rp: string): Promise<void> {
    const text = typeof body === 'string' ? body : Buffer.concat(Array.isArray(body) ? body : [body as Uint8Array]).toString('utf8');
    return new Promise((resolve, reject) => this.writes.push({ body: text, lines: text.split('\n').length, rp, resolve, reject }));
  }
}

class FakeMsg {
  state: 'open' | 'ack' | 'nak' | 'term' = 'open';
  /** progress messages sent (working()) */
  inProgress = 0;
  /** when the stream stored it: now, unless a test says otherwise */
  info = { deliveryCount: 1, timestampNanos: Date.now() * 1e6 };
  readonly headers;
  constructor(
    readonly seq: number,
    readonly data: Uint8Array,
    readonly subject = 'evt.ingest.telemetry.lines.v1',
    msgId?: string,
  ) {
    this.headers = msgId === undefined ? undefined : { get: (name: string) => (name === 'Nats-Msg-Id' ? msgId : '') };
  }
  working(): void {
    this.inProgress++;
  }
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

const conflict = () => new InfluxError('InfluxDB write answered 400: partial write: field type conflict', 400, false);

/** Refuses the first write in part, then answers the writes of one message each (refusing those with `conflicting`) until every message is settled. */
async function refuseThenAnswerOneByOne(influx: FakeInflux, msgs: readonly FakeMsg[]): Promise<void> {
  influx.writes[0]!.reject(conflict());
  for (let k = 1; k <= msgs.length; k++) {
    while (influx.writes.length <= k) await tick();
    const w = influx.writes[k]!;
    expect(w.body).toBe(Buffer.from(msgs[k - 1]!.data).toString());
    if (w.body.includes('conflicting')) w.reject(conflict());
    else w.resolve();
  }
  while (msgs.some((m) => m.state === 'open')) await tick();
}

function writer(influx: FakeInflux, concurrency: number, batchSize = 100, ownLines = new OwnLines(1024 * 1024), env: Record<string, string> = {}) {
  const config = loadIngestConfig({ WRITE_BATCH_SIZE: String(batchSize), WRITE_FLUSH_MS: '60000', WRITE_CONCURRENCY: String(concurrency), ...env });
  const svc = new InfluxWriterService({} as never, influx as unknown as InfluxClient, {} as never, config, ingestMetrics(new Registry()), pino({ level: 'silent' }), ownLines);
  // the consumer loop hands every message to accept(); the test does it itself
  const accept = (m: FakeMsg) => (svc as unknown as { accept(m: JsMsg): Promise<void> }).accept(m as unknown as JsMsg);
  const flush = () => (svc as unknown as { flush(): Promise<void> }).flush();
  return { svc, accept, flush };
}

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

describe('InfluxDB writer: keeping messages from redelivery while they are written', () => {
  const storedAgo = (m: FakeMsg, ms: number) => (m.info.timestampNanos = (Date.now() - ms) * 1e6);

  it('marks in progress only the messages stored so long ago that the write could outlast their acknowledgement wait', async () => {
    // WRITER_ACK_WAIT_MS 60 s, writes time out after 10 s: marked once stored more than 20 s ago
    const influx = new FakeInflux();
    const { accept, flush } = writer(influx, 4, 1000);
    const [fresh, recent, old] = [message(1, 10), message(2, 10), message(3, 10)];
    storedAgo(recent, 15_000);
    storedAgo(old, 25_000);
    for (const m of [fresh, recent, old]) await accept(m);
    const written = flush();
    await tick();
    expect([fresh.inProgress, recent.inProgress, old.inProgress]).toEqual([0, 0, 1]);
    influx.writes[0]!.resolve();
    await written;
    expect([fresh.state, recent.state, old.state]).toEqual(['ack', 'ack', 'ack']);
  });

  it('marks the messages of a refused write again before each one-by-one write when the wait leaves no room', async () => {
    const influx = new FakeInflux();
    const { accept } = writer(influx, 4, 90, undefined, { WRITER_ACK_WAIT_MS: '10000' });
    const msgs = [message(1, 30), message(2, 30, 'conflicting'), message(3, 30)];
    for (const m of msgs) await accept(m);
    await refuseThenAnswerOneByOne(influx, msgs);
    // once before the first write of all (every message), then before each write of one
    expect(msgs.map((m) => m.inProgress)).toEqual([2, 3, 4]);
  });

  it('marks every message when the acknowledgement wait leaves no room beyond the write timeout', async () => {
    const influx = new FakeInflux();
    const { accept, flush } = writer(influx, 4, 1000, undefined, { WRITER_ACK_WAIT_MS: '20000' });
    const msgs = [message(1, 10), message(2, 10)];
    for (const m of msgs) await accept(m);
    const written = flush();
    await tick();
    expect(msgs.map((m) => m.inProgress)).toEqual([1, 1]);
    influx.writes[0]!.resolve();
    await written;
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
    const { accept, flush } = writer(influx, 4);
    const bad = new FakeMsg(1, Uint8Array.from([0x6d, 0x20, 0xff, 0xfe]));
    const empty = new FakeMsg(2, new Uint8Array(0));
    await accept(bad);
    await accept(empty);
    await flush();
    expect([bad.state, empty.state]).toEqual(['term', 'term']);
    expect(influx.writes).toHaveLength(0);
  });

  it('decompresses a compressed message; terminates one that cannot be decompressed, and one of a subject it does not know', async () => {
    const influx = new FakeInflux();
    const { accept, flush } = writer(influx, 4);
    const plain = message(1, 20);
    const packed = new FakeMsg(2, compressLines(message(2, 20).data), 'evt.ingest.telemetry.lines.br.v1');
    const broken = new FakeMsg(3, Buffer.from('m,agent_id=a v=1 1'), 'evt.ingest.telemetry.lines.br.v1');
    const unknown = new FakeMsg(4, message(4, 20).data, 'evt.ingest.telemetry.lines.zstd.v1');
    for (const m of [plain, packed, broken, unknown]) await accept(m);
    const written = flush();
    await tick();
    expect([plain.state, packed.state, broken.state, unknown.state]).toEqual(['open', 'open', 'term', 'term']);
    expect(influx.writes).toHaveLength(1);
    expect(influx.writes[0]!.body).toBe(`${Buffer.from(plain.data).toString()}\n${Buffer.from(message(2, 20).data).toString()}`);
    influx.writes[0]!.resolve();
    await written;
    expect([plain.state, packed.state]).toEqual(['ack', 'ack']);
  });

  it('takes the lines this replica kept for a compressed message (OwnLines) instead of decompressing it; decompresses those of other replicas', async () => {
    const influx = new FakeInflux();
    const own = new OwnLines(1024 * 1024);
    const { accept, flush } = writer(influx, 4, 100, own);
    const mine = message(1, 20).data;
    own.keep('b1:l0', mine);
    // what the stream holds is not even Brotli: only the kept lines can make this message writable
    const kept = new FakeMsg(1, Buffer.from('not brotli'), 'evt.ingest.telemetry.lines.br.v1', 'b1:l0');
    const other = new FakeMsg(2, compressLines(message(2, 20).data), 'evt.ingest.telemetry.lines.br.v1', 'b2:l0');
    await accept(kept);
    await accept(other);
    expect(own.heldBytes).toBe(0);
    const written = flush();
    await tick();
    expect(influx.writes[0]!.body).toBe(`${Buffer.from(mine).toString()}\n${Buffer.from(message(2, 20).data).toString()}`);
    influx.writes[0]!.resolve();
    await written;
    expect([kept.state, other.state]).toEqual(['ack', 'ack']);
    // redelivered later (InfluxDB failed, the replica restarted): the lines are no longer kept, so it is decompressed
    const again = new FakeMsg(1, Buffer.from('not brotli'), 'evt.ingest.telemetry.lines.br.v1', 'b1:l0');
    await accept(again);
    expect(again.state).toBe('term');
  });

  it('when InfluxDB refuses part of a write for good, writes each message alone and terminates only the refused one', async () => {
    const influx = new FakeInflux();
    const { accept } = writer(influx, 4, 90);
    const msgs = [message(1, 30), message(2, 30, 'conflicting'), message(3, 30)];
    for (const m of msgs) await accept(m);
    expect(influx.writes).toHaveLength(1);
    await refuseThenAnswerOneByOne(influx, msgs);
    expect(msgs.map((m) => m.state)).toEqual(['ack', 'term', 'ack']);
    // fresh messages, but written one after another: marked in progress once before those writes (they
    // took less than WRITER_ACK_WAIT_MS - the write timeout, halved, so not again)
    expect(msgs.map((m) => m.inProgress)).toEqual([1, 1, 1]);
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
