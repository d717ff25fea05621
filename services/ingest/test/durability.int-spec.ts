/**
 * Durability and backpressure with real processes: a dedicated influxd that the test kills and
 * starts again, and the built ingest service as a child process that the test stops (SIGTERM) or
 * kills (SIGKILL) mid-stream. Agents are simulated by a steady pusher that behaves like a real one:
 * it sends a batch, and retries the same batch after a refusal, an error or a broken connection
 * (after Retry-After, when given), so it counts a point only once it was acknowledged (2xx).
 * Points are unique by series and timestamp, so "every acknowledged point exactly once" means:
 * the number (and the sum of values) of the points in InfluxDB equals that of the acknowledged ones.
 * Auth is answered by a test double at the NATS boundary.
 */
import 'reflect-metadata';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport } from '@nestjs/microservices';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { AppError, STREAMS, type Principal, type RpcParsedRequest } from '@agentmon/contracts';
import { RpcHandler } from '@agentmon/messaging';
import { INTEGRATION_PORTS, TEST_INFRA } from '../../../test/support/test-env.js';
import { resetStreams } from '../../../test/support/nats.js';
import { WRITER_DURABLE } from '../src/influx/influx-writer.service.js';
import { DedicatedInflux, IngestProcess, ensureIngestBuilt } from './support/processes.js';

const DB = 'agentmon_durability';
const KEY = 'amk_durabilityTestKeyForTheIngestService_01';
const RUN = Date.now().toString(36);

@Controller()
class AuthDouble {
  @RpcHandler('rpc.auth.api-key.verify.v1')
  async verify(req: RpcParsedRequest<'rpc.auth.api-key.verify.v1'>): Promise<Principal> {
    if (req.key !== KEY) throw new AppError('unauthorized', 'API key is not valid');
    return { kind: 'api_key', id: 'key-durability', user_id: 'u-1', username: 'ci', role: 'operator', permissions: ['ingest:write'] };
  }
}
@Module({ controllers: [AuthDouble] })
class DoublesModule {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Simulated agents: each sends a JSON batch of `batchSize` points every `periodMs`, one batch at a
 * time, retrying it until it is acknowledged. Point i of an agent has time base+i (ms) and v = i.
 */
class SteadyPusher {
  readonly acked = new Map<string, { points: number; sum: number }>();
  readonly answers = new Map<string, number>();
  readonly retryAfter = new Set<string>();
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly base = Date.now() - 5 * 60_000;

  constructor(
    private readonly url: () => string,
    readonly measurement: string,
    private readonly agents: string[],
    private readonly batchSize = 25,
    private readonly periodMs = 50,
  ) {}

  start(): void {
    this.running = true;
    this.loops = this.agents.map((agent) => this.agentLoop(agent));
  }

  /** Stops sending new batches and waits until every batch in hand was acknowledged. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  get totalAcked(): number {
    let n = 0;
    for (const a of this.acked.values()) n += a.points;
    return n;
  }

  count(status: number | string): number {
    return this.answers.get(String(status)) ?? 0;
  }

  private async agentLoop(agent: string): Promise<void> {
    let next = 0;
    while (this.running) {
      const first = next;
      const points = Array.from({ length: this.batchSize }, (_, k) => ({ measurement: this.measurement, fields: { v: first + k }, time: this.base + first + k }));
      next += this.batchSize;
      await this.sendUntilAcked(agent, { agent: { id: agent }, points });
      await sleep(this.periodMs);
    }
  }

  private async sendUntilAcked(agent: string, batch: { agent: { id: string }; points: { fields: { v: number } }[] }): Promise<void> {
    const body = JSON.stringify(batch);
    for (;;) {
      let wait = 100;
      try {
        const res = await fetch(`${this.url()}/api/v2/ingest`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': KEY },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        this.answers.set(String(res.status), (this.answers.get(String(res.status)) ?? 0) + 1);
        if (res.status >= 200 && res.status < 300) {
          const a = this.acked.get(agent) ?? { points: 0, sum: 0 };
          a.points += batch.points.length;
          for (const p of batch.points) a.sum += p.fields.v;
          this.acked.set(agent, a);
          return;
        }
        if (res.status < 500 && res.status !== 429) throw new Error(`ingest refused a valid batch with ${res.status}`);
        const ra = res.headers.get('retry-after');
        if (ra) {
          this.retryAfter.add(`${res.status}:${ra}`);
          wait = Math.min(Number(ra) * 1000, 2000);
        }
      } catch (err) {
        if ((err as Error).message.startsWith('ingest refused')) throw err;
        this.answers.set('network', (this.answers.get('network') ?? 0) + 1);
      }
      await sleep(wait);
    }
  }
}

// ---------------------------------------------------------------- set-up
let influx: DedicatedInflux;
let ingest: IngestProcess;
let doubles: INestMicroservice;
let nc: NatsConnection;
let jsm: JetStreamManager;

async function influxql(q: string): Promise<{ results: { series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]; error?: string }[] }> {
  const res = await fetch(`${influx.url}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ q, db: DB, epoch: 'ms' }).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  return (await res.json()) as never;
}

/** count(v) and sum(v) per agent in InfluxDB. */
async function stored(measurement: string): Promise<Map<string, { points: number; sum: number }>> {
  const out = new Map<string, { points: number; sum: number }>();
  const r = await influxql(`SELECT count("v"), sum("v") FROM "${DB}"."raw"."${measurement}" GROUP BY "agent_id"`).catch(() => null);
  for (const s of r?.results[0]?.series ?? []) out.set(s.tags!.agent_id!, { points: Number(s.values[0]![1]), sum: Number(s.values[0]![2]) });
  return out;
}

/** Waits until InfluxDB holds exactly what was acknowledged (or the time is up), and returns what it holds. */
async function settle(pusher: SteadyPusher, timeoutMs = 90_000): Promise<Map<string, { points: number; sum: number }>> {
  const until = Date.now() + timeoutMs;
  const want = JSON.stringify([...pusher.acked].sort());
  let have = await stored(pusher.measurement);
  while (JSON.stringify([...have].sort()) !== want && Date.now() < until) {
    await sleep(500);
    have = await stored(pusher.measurement);
  }
  return have;
}

async function writerBacklog(): Promise<number> {
  const info = await jsm.consumers.info(STREAMS.TELEMETRY.name, WRITER_DURABLE);
  return info.num_pending + info.num_ack_pending;
}

/** Messages of compressed lines (`evt.ingest.telemetry.lines.br.v1`) the stream holds. */
async function compressedMessages(): Promise<number> {
  const subject = 'evt.ingest.telemetry.lines.br.v1';
  const info = await jsm.streams.info(STREAMS.TELEMETRY.name, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

const agents = (phase: string) => Array.from({ length: 4 }, (_, i) => `dur-${phase}-${RUN}-${i}`);

beforeAll(async () => {
  const main = ensureIngestBuilt();
  await resetStreams(TEST_INFRA.natsUrl);
  doubles = await NestFactory.createMicroservice(DoublesModule, {
    transport: Transport.NATS,
    options: { servers: [TEST_INFRA.natsUrl], queue: 'ingest-durability-doubles' },
    logger: false,
  } as never);
  await doubles.listen();
  influx = new DedicatedInflux('durability-influxdb');
  await influx.start();
  ingest = new IngestProcess(main, {
    PORT: String(INTEGRATION_PORTS.ingest),
    HTTP_HOST: '127.0.0.1',
    NATS_URL: TEST_INFRA.natsUrl,
    REDIS_URL: TEST_INFRA.redisUrl,
    INFLUX_URL: influx.url,
    INFLUX_DATABASE: DB,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    WRITE_FLUSH_MS: '100',
    // messages fetched by a killed replica come back after this
    WRITER_ACK_WAIT_MS: '4000',
    SHUTDOWN_TIMEOUT_MS: '10000',
  });
  await ingest.start();
  nc = await connect({ servers: TEST_INFRA.natsUrl });
  jsm = await jetstreamManager(nc);
}, 120_000);

afterAll(async () => {
  await ingest?.stop('SIGTERM');
  await influx?.stop();
  await doubles?.close();
  await nc?.close();
});

// ---------------------------------------------------------------- tests
describe('durability with real processes', () => {
  it('InfluxDB killed (SIGKILL) during a steady push and started again: every acknowledged point arrives exactly once', async () => {
    const pusher = new SteadyPusher(() => ingest.url, `dur_influx_${RUN}`, agents('influx'));
    pusher.start();
    await sleep(2000);
    await influx.kill('SIGKILL');
    const ackedAtKill = pusher.totalAcked;
    await sleep(4000);
    // ingest kept accepting: JetStream holds the points while InfluxDB is away
    expect(pusher.totalAcked).toBeGreaterThan(ackedAtKill);
    await influx.start();
    await sleep(2000);
    await pusher.stop();

    const have = await settle(pusher);
    expect(pusher.totalAcked).toBeGreaterThan(1000);
    expect(Object.fromEntries(have)).toEqual(Object.fromEntries(pusher.acked));
  }, 150_000);

  it.each([['SIGTERM'], ['SIGKILL']] as const)('ingest restarted (%s) during a steady push: every acknowledged point arrives exactly once', async (signal) => {
    const pusher = new SteadyPusher(() => ingest.url, `dur_ingest_${signal.toLowerCase()}_${RUN}`, agents(signal.toLowerCase()));
    pusher.start();
    await sleep(2500);
    await ingest.stop(signal);
    await sleep(300); // answers received before the process ended are counted by now
    const ackedAtStop = pusher.totalAcked;
    await sleep(1000);
    // nothing answers while it is down: the agents keep their batches and retry
    expect(pusher.totalAcked).toBe(ackedAtStop);
    // the process that comes back stores its messages the other way (compressed after SIGTERM,
    // uncompressed again after SIGKILL), so messages of both subjects cross each restart
    const compressedBefore = await compressedMessages();
    ingest.setEnv({ STREAM_COMPRESS_MIN_BYTES: signal === 'SIGTERM' ? '1' : '65536' });
    await ingest.start();
    await sleep(2500);
    await pusher.stop();
    expect(pusher.totalAcked).toBeGreaterThan(ackedAtStop);
    expect(pusher.count('network')).toBeGreaterThan(0);
    if (signal === 'SIGTERM') expect(await compressedMessages()).toBeGreaterThan(compressedBefore);

    const have = await settle(pusher);
    expect(Object.fromEntries(have)).toEqual(Object.fromEntries(pusher.acked));
  }, 150_000);

  it('answers 503 with Retry-After once the writer falls behind its limit (InfluxDB stopped), and accepts again when it caught up', async () => {
    await ingest.stop('SIGTERM');
    ingest.setEnv({ BACKPRESSURE_MAX_BACKLOG: '5', BACKPRESSURE_REFRESH_MS: '200', BACKPRESSURE_RETRY_AFTER_S: '1' });
    await ingest.start();
    await influx.kill('SIGTERM');

    const pusher = new SteadyPusher(() => ingest.url, `dur_backpressure_${RUN}`, agents('bp'), 10, 50);
    pusher.start();
    const until = Date.now() + 20_000;
    while (pusher.count(503) < 10 && Date.now() < until) await sleep(200);
    expect(pusher.count(503)).toBeGreaterThanOrEqual(10);
    expect(pusher.retryAfter).toContain('503:1');
    // refused instead of growing: the backlog stays near the limit (5), however long InfluxDB is away
    await sleep(2000);
    const backlog = await writerBacklog();
    expect(backlog).toBeGreaterThan(5);
    expect(backlog).toBeLessThan(5 + 30);
    const refusedBody = await fetch(`${ingest.url}/api/v2/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ agent: { id: 'probe' }, points: [{ measurement: `dur_backpressure_${RUN}`, fields: { w: 1 } }] }),
    });
    expect(refusedBody.status).toBe(503);
    expect(refusedBody.headers.get('retry-after')).toBe('1');
    expect(await refusedBody.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable', message: expect.stringMatching(/writer is behind/), request_id: expect.any(String) });
    const metrics = await (await fetch(`${ingest.url}/metrics`)).text();
    expect(metrics).toMatch(/agentmon_ingest_backpressure_refusals_total\{reason="writer_backlog",service="ingest"\} [1-9]/);
    expect(metrics).toMatch(/agentmon_ingest_writer_backlog_messages\{service="ingest"\} [1-9]/);

    await influx.start();
    const acceptedBefore = pusher.count(202);
    const recovered = Date.now() + 60_000;
    while (pusher.count(202) < acceptedBefore + 20 && Date.now() < recovered) await sleep(200);
    expect(pusher.count(202)).toBeGreaterThanOrEqual(acceptedBefore + 20);
    await pusher.stop();
    const have = await settle(pusher);
    expect(Object.fromEntries(have)).toEqual(Object.fromEntries(pusher.acked));
  }, 150_000);

  it('bounds the memory of request bodies in progress: over MAX_INFLIGHT_BYTES the answer is 503 with Retry-After', async () => {
    await ingest.stop('SIGTERM');
    ingest.setEnv({ BACKPRESSURE_MAX_BACKLOG: '100000', MAX_INFLIGHT_BYTES: String(256 * 1024) });
    await ingest.start();
    const measurement = `dur_memory_${RUN}`;
    const t0 = Date.now() - 60_000;
    // 40 bodies of about 100 KB at once against a budget of 256 KiB
    const bodies = Array.from({ length: 40 }, (_, b) =>
      JSON.stringify({ agent: { id: `dur-mem-${RUN}` }, points: Array.from({ length: 1000 }, (_, i) => ({ measurement, fields: { v: b * 1000 + i, pad: 'x'.repeat(60) }, time: t0 + b * 1000 + i })) }),
    );
    const answers = await Promise.all(
      bodies.map(async (body) => {
        const res = await fetch(`${ingest.url}/api/v2/ingest`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body });
        return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { message?: string } };
      }),
    );
    const refused = answers.filter((a) => a.status === 503);
    const accepted = answers.filter((a) => a.status === 202);
    expect(refused.length).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThan(0);
    expect(refused.length + accepted.length).toBe(40);
    expect(refused[0]).toMatchObject({ retryAfter: '1', body: { statusCode: 503, message: expect.stringMatching(/too many request bodies/), request_id: expect.any(String) } });
    // what was acknowledged is stored
    const until = Date.now() + 30_000;
    let count = 0;
    while (Date.now() < until) {
      const r = await influxql(`SELECT count("v") FROM "${DB}"."raw"."${measurement}"`);
      count = Number(r.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
      if (count === accepted.length * 1000) break;
      await sleep(300);
    }
    expect(count).toBe(accepted.length * 1000);
  }, 90_000);
});
