// The writer's InfluxDB writes run side by side, at most WRITE_CONCURRENCY of them, and each
// acknowledges only its own messages (or naks them when InfluxDB fails). Fakes stand in for JetStream
// and InfluxDB so that the test decides when each write answers.
import { Registry } from 'prom-client';
import pino from 'pino';
import type { JsMsg } from '@nats-io/jetstream';
import type { StoredPoint, TelemetryBatch } from '@agentmon/contracts';
import { loadIngestConfig } from '../config.js';
import { ingestMetrics } from '../stats/ingest-metrics.js';
import { InfluxError, type InfluxClient } from './influx.client.js';
import { InfluxWriterService } from './influx-writer.service.js';

interface PendingWrite {
  lines: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

class FakeInflux {
  readonly writes: PendingWrite[] = [];
  write(body: string): Promise<void> {
    return new Promise((resolve, reject) => this.writes.push({ lines: body.split('\n').length, resolve, reject }));
  }
}

class FakeMsg {
  state: 'open' | 'ack' | 'nak' | 'term' = 'open';
  readonly info = { deliveryCount: 1 };
  constructor(
    readonly seq: number,
    readonly data: Uint8Array,
  ) {}
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

function message(seq: number, points: number): FakeMsg {
  const pts: StoredPoint[] = Array.from({ length: points }, (_, i) => ({ agent_id: `a${i % 7}`, measurement: 'm', tags: {}, fields: { v: i }, time: 1_700_000_000_000 + seq * points + i }));
  const batch: TelemetryBatch = { batch_id: `b${seq}`, chunk: 0, chunks: 1, received_at: 1, source: 'line', agents: [{ id: 'a0' }], points: pts };
  return new FakeMsg(seq, new TextEncoder().encode(JSON.stringify(batch)));
}

const tick = () => new Promise((r) => setImmediate(r));

function writer(influx: FakeInflux, concurrency: number) {
  const config = loadIngestConfig({ WRITE_BATCH_SIZE: '100', WRITE_FLUSH_MS: '60000', WRITE_CONCURRENCY: String(concurrency) });
  const latest = { observe: () => undefined, flush: () => Promise.resolve() };
  const svc = new InfluxWriterService({} as never, influx as unknown as InfluxClient, {} as never, config, ingestMetrics(new Registry()), pino({ level: 'silent' }), latest as never);
  // the consumer loop hands every message to accept(); the test does it itself
  const accept = (m: FakeMsg) => (svc as unknown as { accept(m: JsMsg): Promise<void> }).accept(m as unknown as JsMsg);
  return { svc, accept };
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
