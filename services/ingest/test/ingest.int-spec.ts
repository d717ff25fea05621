/**
 * The ingest service in-process against the real NATS/JetStream, Redis and InfluxDB of the test
 * profile. Auth and registry are other services: a small Nest microservice in this file answers
 * their NATS subjects (a test double at the NATS boundary, through the same @RpcHandler transport
 * the real ones use).
 */
import 'reflect-metadata';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Controller, Module, type INestApplication, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport } from '@nestjs/microservices';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Redis } from 'ioredis';
import { AppError, STREAMS, TelemetryAgentsSchema, TelemetryLines, compressLines, decompressLines, type Principal, type RpcParsedRequest, type StoredPoint, type TelemetryAgents } from '@agentmon/contracts';
import { RpcClient, RpcHandler } from '@agentmon/messaging';
import { createLogger } from '@agentmon/observability';
import { INTEGRATION_PORTS, TEST_INFRA } from '../../../test/support/test-env.js';
import { agentRecord } from '../../../test/support/agents.js';
import { deleteConsumerUnderService, resetStreams } from '../../../test/support/nats.js';
import { loadIngestConfig } from '../src/config.js';
import { startIngest } from '../src/ingest-app.js';
import { FORMER_WRITER_DURABLE, PREVIOUS_WRITER_DURABLE, WRITER_DURABLE } from '../src/influx/influx-writer.service.js';

const DB = 'agentmon_int';
const BASE = `http://127.0.0.1:${INTEGRATION_PORTS.ingest}`;
const KEY_WRITE = 'amk_writeKeyForIngestIntegrationTests_0001';
const KEY_READ = 'amk_readOnlyKeyForIngestIntegrationTests_01';
const KEY_ADMIN = 'amk_adminKeyForIngestIntegrationTests_00001';
const RUN = Date.now().toString(36);

// ---------------------------------------------------------------- test doubles of auth and registry
const verifyCalls: string[] = [];
const heartbeats: RpcParsedRequest<'rpc.registry.agent.heartbeat.v1'>[] = [];
const principal = (id: string, permissions: Principal['permissions']): Principal => ({
  kind: 'api_key',
  id,
  user_id: 'u-1',
  username: 'ci',
  role: 'operator',
  permissions,
});

@Controller()
class AuthAndRegistryDouble {
  @RpcHandler('rpc.auth.api-key.verify.v1')
  async verify(req: RpcParsedRequest<'rpc.auth.api-key.verify.v1'>) {
    verifyCalls.push(req.key);
    if (req.key === KEY_WRITE) return principal('key-write', ['ingest:write']);
    if (req.key === KEY_READ) return principal('key-read', ['read']);
    if (req.key === KEY_ADMIN) return principal('key-admin', ['admin']);
    throw new AppError('unauthorized', 'API key is not valid');
  }

  @RpcHandler('rpc.registry.agent.heartbeat.v1')
  async heartbeat(req: RpcParsedRequest<'rpc.registry.agent.heartbeat.v1'>) {
    heartbeats.push(req);
    if (req.agent_id === 'unknown-agent') throw AppError.notFound('agent', req.agent_id);
    return agentRecord(req.agent_id, {
      status: req.status === 'degraded' ? 'degraded' : 'online',
      version: req.version ?? null,
      config_version: req.config_version ?? null,
    });
  }

  @RpcHandler('rpc.registry.agent.config.get.v1')
  async config(req: RpcParsedRequest<'rpc.registry.agent.config.get.v1'>) {
    if (req.id === 'unknown-agent') throw AppError.notFound('agent', req.id);
    return { version: 3, config: { sample_every: '10s', agent: req.id } };
  }
}
@Module({ controllers: [AuthAndRegistryDouble] })
class DoublesModule {}

// ---------------------------------------------------------------- InfluxDB behind a switch
/**
 * The service reaches the real InfluxDB through this pass-through proxy, so a test can make
 * InfluxDB unreachable for the service (503, as a restarting InfluxDB or a load balancer answers)
 * without stopping the shared test server.
 */
let influxDown = false;
function startInfluxSwitch(target: string): Promise<Server> {
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    if (influxDown) {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"unavailable (test switch)"}');
      return;
    }
    const fwd = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    fwd.on('error', () => res.writeHead(502).end());
    req.pipe(fwd);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---------------------------------------------------------------- helpers
async function influxql(q: string): Promise<{ results: { series?: { columns: string[]; values: unknown[][] }[]; error?: string }[] }> {
  const res = await fetch(`${TEST_INFRA.influxUrl}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ q, db: DB, epoch: 'ms' }).toString(),
  });
  return (await res.json()) as never;
}
async function countPoints(measurement: string, field: string): Promise<number> {
  const out = await influxql(`SELECT count("${field}") FROM "${DB}"."raw"."${measurement}"`);
  return Number(out.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
}
async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > until) return last;
    await new Promise((r) => setTimeout(r, 200));
    last = await fn();
  }
  return last;
}
function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const raw = typeof body === 'string' || Buffer.isBuffer(body);
  return fetch(`${BASE}${path}`, {
    method: 'POST',
    headers: { ...(raw ? {} : { 'content-type': 'application/json' }), ...headers },
    body: raw ? (body as string | Buffer) : JSON.stringify(body),
  });
}
const auth = { 'x-api-key': KEY_WRITE };
const iso = (ms: number) => new Date(ms).toISOString();

/** One accepted batch as the TELEMETRY stream holds it: its lines messages and its agents message(s). */
interface StoredBatch {
  agents: TelemetryAgents[];
  /** the request ids its messages carry (`x-request-id`) */
  requestIds: string[];
  /** the lines messages in the order of their ids (`<batch>:l0`, `:l1`, …): subject, bytes as stored, lines (decompressed) */
  lines: { msgId: string; subject: string; stored: number; data: Uint8Array }[];
  points: StoredPoint[];
}
/** Every batch in the stream, by batch id (the de-duplication ids name it: `<batch>:l<n>`, `<batch>:a`). */
async function streamBatches(jsm: JetStreamManager): Promise<Map<string, StoredBatch>> {
  const info = await jsm.streams.info(STREAMS.TELEMETRY.name);
  const out = new Map<string, StoredBatch>();
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(STREAMS.TELEMETRY.name, { seq }).catch(() => null);
    if (!m) continue;
    const msgId = m.header.get('Nats-Msg-Id');
    const batchId = msgId.slice(0, msgId.lastIndexOf(':'));
    let batch = out.get(batchId);
    if (!batch) out.set(batchId, (batch = { agents: [], requestIds: [], lines: [], points: [] }));
    batch.requestIds.push(m.header.get('x-request-id'));
    if (m.subject === 'evt.ingest.telemetry.agents.v1') batch.agents.push(TelemetryAgentsSchema.parse(m.json()));
    else if (m.subject === 'evt.ingest.telemetry.lines.v1') batch.lines.push({ msgId, subject: m.subject, stored: m.data.length, data: m.data });
    else if (m.subject === 'evt.ingest.telemetry.lines.br.v1') batch.lines.push({ msgId, subject: m.subject, stored: m.data.length, data: decompressLines(m.data) });
    else throw new Error(`unexpected subject ${m.subject}`);
  }
  for (const b of out.values()) {
    b.lines.sort((x, y) => Number(x.msgId.slice(x.msgId.lastIndexOf(':l') + 2)) - Number(y.msgId.slice(y.msgId.lastIndexOf(':l') + 2)));
    b.points = b.lines.flatMap((l) => new TelemetryLines(l.data).points());
  }
  return out;
}
/** The batch whose agents message names the agent. */
async function batchOf(jsm: JetStreamManager, agentId: string): Promise<StoredBatch & { id: string }> {
  for (const [id, b] of await streamBatches(jsm)) if (b.agents.some((a) => a.agents.some((x) => x.id === agentId))) return { id, ...b };
  throw new Error(`no batch of ${agentId} in the stream`);
}

// ---------------------------------------------------------------- set-up
const UPGRADE_T0 = Date.now() - 60_000;
/** stream sequences of the three messages the previous version's writer found (it wrote the first) */
const upgradeSeqs: number[] = [];
let app: INestApplication;
let doubles: INestMicroservice;
let rpc: RpcClient;
let nc: NatsConnection;
let jsm: JetStreamManager;
let influxSwitch: Server;

beforeAll(async () => {
  await influxql(`DROP DATABASE "${DB}"`);
  await resetStreams(TEST_INFRA.natsUrl);
  // the writer's consumer from before the stream carried line protocol, as an upgraded installation has it
  {
    const setup = await connect({ servers: TEST_INFRA.natsUrl });
    const setupJsm = await jetstreamManager(setup);
    await setupJsm.streams.add({ name: STREAMS.TELEMETRY.name, subjects: [...STREAMS.TELEMETRY.subjects] });
    await setupJsm.consumers.add(STREAMS.TELEMETRY.name, { durable_name: FORMER_WRITER_DURABLE, ack_policy: AckPolicy.Explicit, filter_subject: 'evt.ingest.telemetry.batch.v1' });
    // ... and the previous version's, which read the uncompressed lines only: it has written (acknowledged)
    // the first of three messages when this version starts
    await setupJsm.consumers.add(STREAMS.TELEMETRY.name, { durable_name: PREVIOUS_WRITER_DURABLE, ack_policy: AckPolicy.Explicit, filter_subject: 'evt.ingest.telemetry.lines.v1' });
    const setupJs = jetstream(setup);
    for (const v of [1, 2, 3]) {
      const ack = await setupJs.publish('evt.ingest.telemetry.lines.v1', Buffer.from(`upgrade_${RUN},agent_id=agent-upgrade-${RUN} v=${v} ${UPGRADE_T0 + v}`), { msgID: `upgrade-${RUN}-${v}:l0` });
      upgradeSeqs.push(ack.seq);
    }
    const written = await (await setupJs.consumers.get(STREAMS.TELEMETRY.name, PREVIOUS_WRITER_DURABLE)).next();
    expect(written?.seq).toBe(upgradeSeqs[0]);
    await written!.ackAck();
    await setup.close();
  }
  const redis = new Redis(TEST_INFRA.redisUrl);
  const keys = await redis.keys('agentmon:ingest:rate:*');
  if (keys.length) await redis.del(...keys);
  await redis.quit();

  doubles = await NestFactory.createMicroservice(DoublesModule, {
    transport: Transport.NATS,
    options: { servers: [TEST_INFRA.natsUrl], queue: 'ingest-int-doubles' },
    logger: false,
  } as never);
  await doubles.listen();

  influxSwitch = await startInfluxSwitch(TEST_INFRA.influxUrl);
  const config = loadIngestConfig({
    PORT: String(INTEGRATION_PORTS.ingest),
    HTTP_HOST: '127.0.0.1',
    NATS_URL: TEST_INFRA.natsUrl,
    REDIS_URL: TEST_INFRA.redisUrl,
    INFLUX_URL: `http://127.0.0.1:${(influxSwitch.address() as AddressInfo).port}`,
    INFLUX_DATABASE: DB,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    WRITE_FLUSH_MS: '100',
    // longer than the default (1 s), so that the test of it does not depend on how fast requests go
    AGENT_ANNOUNCE_INTERVAL_MS: '3000',
  });
  app = await startIngest(config, createLogger('ingest', config.LOG_LEVEL));
  rpc = new RpcClient(TEST_INFRA.natsUrl, 10_000, 'ingest-int-test');
  await rpc.connect();
  nc = await connect({ servers: TEST_INFRA.natsUrl });
  jsm = await jetstreamManager(nc);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await doubles?.close();
  await rpc?.close();
  await nc?.close();
  await new Promise((r) => influxSwitch?.close(r));
});

// ---------------------------------------------------------------- tests
describe('ingest service', () => {
  it('migrated InfluxDB: retention policies, no continuous queries (ingest downsamples) and the record of applied steps', async () => {
    const rps = await influxql(`SHOW RETENTION POLICIES ON "${DB}"`);
    const rows = rps.results[0]!.series![0]!.values.map((v) => [v[0], v[1], v[4]]);
    expect(rows).toEqual(
      expect.arrayContaining([
        ['raw', '2160h0m0s', true],
        ['agg_1m', '8760h0m0s', false],
        ['agg_1h', '8760h0m0s', false],
        ['agentmon_meta', '0s', false],
      ]),
    );
    const cqs = await influxql('SHOW CONTINUOUS QUERIES');
    const ours = cqs.results[0]!.series?.find((s) => (s as unknown as { name: string }).name === DB);
    // 0002–0004 created continuous queries; 0005 dropped them: the DownsamplerService computes the aggregates
    expect(ours?.values ?? []).toEqual([]);
    const steps = await influxql(`SELECT "applied", "step" FROM "${DB}"."agentmon_meta"."schema_migrations"`);
    expect(steps.results[0]!.series![0]!.values.map((v) => v[2])).toEqual(['0001-retention-policies', '0002-continuous-queries', '0003-continuous-queries-with-sum', '0004-cheaper-continuous-queries', '0005-downsampling-without-continuous-queries']);
  });

  it('accepts a JSON batch with 202 after JetStream stored it, and the points become queryable', async () => {
    const agentId = `agent-json-${RUN}`;
    const t0 = Math.floor(Date.now() / 10_000) * 10_000 - 120_000;
    const agent = { id: agentId, name: 'Planner 7', type: 'llm-agent', version: '1.4.2', host: 'node-3', region: 'eu-west-1', tags: { env: 'prod', team: 'search' } };
    const res = await post(
      '/api/v2/ingest',
      {
        agent,
        points: [
          { measurement: 'agent_metrics', fields: { cpu_usage: 45.2, memory_usage: 67.3 }, tags: { core: 'all' }, time: new Date(t0).toISOString() },
          { measurement: 'agent_metrics', fields: { cpu_usage: 50, memory_usage: 70.5, state: 'busy', healthy: true }, tags: { core: 'all' }, time: t0 + 5000 },
          { measurement: 'agent_metrics', fields: { cpu_usage: 55.5, memory_usage: 71 }, tags: { core: 'all' }, time: t0 + 10_000 },
        ],
      },
      { authorization: `Bearer ${KEY_WRITE}`, 'x-request-id': `req-${RUN}` },
    );
    expect(res.status).toBe(202);
    expect(res.headers.get('x-request-id')).toBe(`req-${RUN}`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.json()).toEqual({ accepted: 3 });
    // counted by route template, status and method, with its duration
    const metrics = await (await fetch(`${BASE}/metrics`)).text();
    expect(metrics).toMatch(/agentmon_http_requests_total\{method="POST",route="\/api\/v2\/ingest",status="202",service="ingest"\} [1-9]/);
    expect(metrics).toMatch(/agentmon_http_request_duration_seconds_count\{service="ingest",method="POST",route="\/api\/v2\/ingest"\} [1-9]/);

    // the stream holds the batch: its points as line protocol, and an agents message for the registry
    const batch = await batchOf(jsm, agentId);
    expect(batch.agents).toEqual([{ batch_id: batch.id, received_at: expect.any(Number), source: 'json', agents: [agent] }]);
    expect(batch.lines.map((l) => l.msgId)).toEqual([`${batch.id}:l0`]);
    expect(batch.points).toHaveLength(3);
    expect(batch.points[0]).toEqual({ agent_id: agentId, measurement: 'agent_metrics', tags: { core: 'all' }, fields: { cpu_usage: 45.2, memory_usage: 67.3 }, time: t0 });
    expect(Buffer.from(batch.lines[0]!.data).toString().split('\n')[0]).toBe(`agent_metrics,agent_id=${agentId},core=all cpu_usage=45.2,memory_usage=67.3 ${t0}`);

    const query = { agent_id: agentId, measurement: 'agent_metrics', from: t0, to: t0 + 15_000, interval: '5s' };
    const result = await eventually(
      () => rpc.request('rpc.ingest.metrics.historical.v1', query),
      (r) => r.series.some((s) => s.points.some(([, v]) => v !== null)),
    );
    expect(result).toEqual({
      agent_id: agentId,
      measurement: 'agent_metrics',
      interval: '5s',
      // every numeric field by default; strings and booleans cannot be averaged
      series: [
        { field: 'cpu_usage', points: [[iso(t0), 45.2], [iso(t0 + 5000), 50], [iso(t0 + 10_000), 55.5]] },
        { field: 'memory_usage', points: [[iso(t0), 67.3], [iso(t0 + 5000), 70.5], [iso(t0 + 10_000), 71]] },
      ],
    });

    // chosen resolution and named fields
    const chosen = await rpc.request('rpc.ingest.metrics.historical.v1', { agent_id: agentId, measurement: 'agent_metrics', fields: ['memory_usage'], from: t0 + 15_000 - 3_600_000, to: t0 + 15_000 });
    expect(chosen.interval).toBe('5s');
    expect(chosen.series.map((s) => s.field)).toEqual(['memory_usage']);
    expect(chosen.series[0]!.points.length).toBeLessThanOrEqual(1000);
    expect(chosen.series[0]!.points.filter(([, v]) => v !== null).map(([, v]) => v)).toEqual([67.3, 70.5, 71]);

    // a field that is not a number is refused by name
    await expect(rpc.request('rpc.ingest.metrics.historical.v1', { ...query, fields: ['state'] })).rejects.toMatchObject({ statusCode: 400 });
  });

  it('refuses a batch with invalid points whole: 400 naming each bad point, nothing stored', async () => {
    const before = (await jsm.streams.info(STREAMS.TELEMETRY.name)).state.messages;
    const measurement = `refused_${RUN}`;
    const res = await post(
      '/api/v2/ingest',
      {
        agent: { id: `agent-bad-${RUN}` },
        points: [
          { measurement, fields: { cpu_usage: 1 } },
          { measurement, fields: { cpu_usage: 'x', ok: { nested: true } } },
          { measurement, fields: { cpu_usage: 2 }, time: Date.now() + 3_600_000 },
          { measurement, fields: { cpu_usage: [1] } },
        ],
      },
      auth,
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { statusCode: number; error: string; message: string; details: { path: string; reason: string }[]; request_id: string };
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request', request_id: expect.any(String) });
    // the id the service made for the request names it in the answer's header and body alike
    expect(body.request_id).toBe(res.headers.get('x-request-id'));
    expect(body.details.map((d) => d.path).sort()).toEqual(['points[1].fields.ok', 'points[2].time', 'points[3].fields.cpu_usage']);
    expect(body.details.find((d) => d.path === 'points[2].time')!.reason).toBe('is more than 10 minutes in the future');
    expect(body.message).toMatch(/3 invalid points; nothing was stored/);
    await new Promise((r) => setTimeout(r, 700));
    expect((await jsm.streams.info(STREAMS.TELEMETRY.name)).state.messages).toBe(before);
    expect(await countPoints(measurement, 'cpu_usage')).toBe(0);
  });

  it('answers 401 without a valid key and 403 without ingest:write', async () => {
    const batch = { agent: { id: 'a' }, points: [{ measurement: 'm', fields: { v: 1 } }] };
    const none = await post('/api/v2/ingest', batch);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect((await post('/api/v2/ingest', batch, { authorization: 'Bearer amk_notAKeyThatAuthKnows_123456' })).status).toBe(401);
    expect((await post('/api/v2/ingest', batch, { authorization: 'Bearer eyJhbGciOiJFUzI1NiJ9.e30.sig' })).status).toBe(401);
    const readOnly = await post('/api/v2/ingest', batch, { 'x-api-key': KEY_READ });
    expect(readOnly.status).toBe(403);
    expect(await readOnly.json()).toMatchObject({ statusCode: 403, message: 'this API key lacks the ingest:write permission' });
    expect((await post('/api/v2/ingest', batch, { authorization: `Token ${KEY_ADMIN}` })).status).toBe(202);
  });

  it('remembers verified keys: auth is asked once per key, not once per request', async () => {
    const key = KEY_WRITE;
    const batch = { agent: { id: `agent-cache-${RUN}` }, points: [] };
    const asked = () => verifyCalls.filter((k) => k === key).length;
    await post('/api/v2/ingest', batch, { 'x-api-key': key });
    const after = asked();
    for (let i = 0; i < 5; i++) expect((await post('/api/v2/ingest', batch, { 'x-api-key': key })).status).toBe(202);
    expect(asked()).toBe(after);
  });

  it('answers 413 in JSON for a body over 10 MiB', async () => {
    const big = JSON.stringify({ agent: { id: 'a' }, points: [{ measurement: 'm', fields: { s: 'x'.repeat(10 * 1024 * 1024 + 10) } }] });
    const res = await post('/api/v2/ingest', big, { ...auth, 'content-type': 'application/json' });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
  });

  it('answers bodies it cannot read with JSON errors: bad JSON 400, unknown encoding 415, zip bomb 413', async () => {
    const badJson = await post('/api/v2/ingest', '{"agent": {', { ...auth, 'content-type': 'application/json' });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ statusCode: 400, message: expect.stringMatching(/not valid JSON/) });
    const text = await post('/api/v2/ingest', 'm,agent_id=a v=1', { ...auth, 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    const brotli = await post('/api/v2/write', 'm,agent_id=a v=1', { ...auth, 'content-encoding': 'br' });
    expect(brotli.status).toBe(415);
    expect(await brotli.json()).toMatchObject({ statusCode: 415, message: expect.stringContaining('Content-Encoding br') });
    const bomb = gzipSync(Buffer.alloc(11 * 1024 * 1024, 'a'));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const exploded = await post('/api/v2/write', bomb, { ...auth, 'content-encoding': 'gzip' });
    expect(exploded.status).toBe(413);
    expect(await exploded.json()).toMatchObject({ statusCode: 413 });
    const garbage = await post('/api/v2/write', Buffer.from('not gzip at all'), { ...auth, 'content-encoding': 'gzip' });
    expect(garbage.status).toBe(400);
  });

  it('splits a batch larger than a NATS message into chunks and stores every point', async () => {
    const agentId = `agent-big-${RUN}`;
    const measurement = `bulk_${RUN}`;
    const t0 = Date.now() - 30 * 60_000;
    const n = 20_000;
    const points = Array.from({ length: n }, (_, i) => ({ measurement, fields: { v: i, note: `point ${i} ${'p'.repeat(100)}` }, tags: { shard: String(i % 10) }, time: t0 + i }));
    const body = JSON.stringify({ agent: { id: agentId }, points });
    expect(body.length).toBeGreaterThan(2 * 1024 * 1024);
    const res = await post('/api/v2/ingest', body, { ...auth, 'content-type': 'application/json' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: n });

    // several lines messages of one batch (split between points), one agents message
    const batch = await batchOf(jsm, agentId);
    expect(batch.lines.length).toBeGreaterThanOrEqual(3);
    expect(batch.lines.map((l) => l.msgId)).toEqual(batch.lines.map((_, i) => `${batch.id}:l${i}`));
    const maxPayload = nc.info!.max_payload;
    for (const l of batch.lines) expect(l.data.length).toBeLessThanOrEqual(maxPayload);
    // each travels compressed (STREAM_COMPRESS_MIN_BYTES, 64 KiB by default), the lines several times smaller
    for (const l of batch.lines) expect([l.subject, l.stored < l.data.length / 4]).toEqual(['evt.ingest.telemetry.lines.br.v1', true]);
    expect(batch.agents).toHaveLength(1);
    expect(batch.points.map((p) => p.fields.v)).toEqual(points.map((p) => p.fields.v));

    expect(await eventually(() => countPoints(measurement, 'v'), (c) => c === n, 30_000)).toBe(n);
  }, 60_000);

  it('takes InfluxDB line protocol on the 2.x and 1.x write APIs, compressed or not', async () => {
    const agentId = `agent-lp-${RUN}`;
    const measurement = `lp_${RUN}`;
    const t = Math.floor(Date.now() / 1000) - 60;
    const v2 = await post(`/api/v2/write?org=o&bucket=b&precision=s`, `${measurement},agent_id=${agentId},host=h\\ 1 value=1.5,count=2i,ok=true,msg="a \\"q\\"" ${t}\n`, {
      authorization: `Token ${KEY_WRITE}`,
      'content-type': 'text/plain; charset=utf-8',
    });
    expect(v2.status).toBe(204);
    const basic = `Basic ${Buffer.from(`telegraf:${KEY_WRITE}`).toString('base64')}`;
    const v1 = await post(`/write?db=telegraf&precision=ms`, gzipSync(`${measurement},agent_id=${agentId},host=h2 value=2.5 ${(t + 1) * 1000}`), {
      authorization: basic,
      'content-encoding': 'gzip',
    });
    expect(v1.status).toBe(204);
    const v1query = await post(`/write?db=telegraf&precision=ms&u=telegraf&p=${KEY_WRITE}`, `${measurement},agent_id=${agentId},host=h3 value=3.5 ${(t + 2) * 1000}`, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(v1query.status).toBe(204);

    const rows = await eventually(
      async () => (await influxql(`SELECT * FROM "${DB}"."raw"."${measurement}"`)).results[0]?.series?.[0],
      (s) => (s?.values.length ?? 0) === 3,
    );
    const cols = rows!.columns;
    const get = (i: number, c: string) => rows!.values[i]![cols.indexOf(c)];
    expect([get(0, 'host'), get(0, 'value'), get(0, 'count'), get(0, 'ok'), get(0, 'msg'), get(0, 'time')]).toEqual(['h 1', 1.5, 2, true, 'a "q"', t * 1000]);
    expect([get(1, 'host'), get(1, 'value')]).toEqual(['h2', 2.5]);
    expect([get(2, 'host'), get(2, 'value')]).toEqual(['h3', 3.5]);

    // a bad line refuses the whole request
    const bad = await post(`/api/v2/write?precision=s`, `${measurement},agent_id=${agentId} value=4 ${t}\n${measurement},host=x value=5 ${t}\n`, { authorization: `Token ${KEY_WRITE}` });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ statusCode: 400, details: [{ path: 'lines[1].tags.agent_id', reason: 'is required on every line' }] });
    const badPrecision = await post(`/api/v2/write?precision=h`, `${measurement},agent_id=${agentId} value=4`, { authorization: `Token ${KEY_WRITE}` });
    expect(badPrecision.status).toBe(400);
    expect((await post(`/api/v2/write`, `${measurement},agent_id=${agentId} value=4`, { authorization: basic })).status).toBe(401);
  });

  it('stores a line-protocol batch as the client wrote it when it is already normal, and rewrites what is not', async () => {
    const measurement = `lpfast_${RUN}`;
    const t0 = Date.now() - 120_000;
    // 5,000 lines of 100 agents in ms: the body is the stream message, byte for byte
    const lines = Array.from({ length: 5000 }, (_, k) => `${measurement},agent_id=lpf-${RUN}-${k % 100},host=node-${k % 7} cpu=${(k % 997) / 10},mem=${k % 89}i ${t0 + k}`);
    const asWritten = lines.map((l) => l.replace(/i (\d+)$/, ' $1'));
    const res = await post('/api/v2/write?precision=ms', `${lines.join('\n')}\n`, { authorization: `Token ${KEY_WRITE}` });
    expect(res.status).toBe(204);
    const batch = await batchOf(jsm, `lpf-${RUN}-0`);
    expect(batch.agents[0]!.agents).toHaveLength(100);
    expect(batch.agents[0]!.source).toBe('line');
    // integers lose their suffix (numbers travel as floats); nothing else changes
    expect(batch.lines.map((l) => Buffer.from(l.data).toString()).join('\n')).toBe(asWritten.join('\n'));
    // nanoseconds: the stream holds milliseconds
    const ns = await post('/api/v2/write', `${measurement},agent_id=lpf-ns-${RUN} cpu=1 ${BigInt(t0) * 1_000_000n + 123_456n}\r\n`, { authorization: `Token ${KEY_WRITE}` });
    expect(ns.status).toBe(204);
    const nsBatch = await batchOf(jsm, `lpf-ns-${RUN}`);
    expect(Buffer.from(nsBatch.lines[0]!.data).toString()).toBe(`${measurement},agent_id=lpf-ns-${RUN} cpu=1 ${t0}`);
    expect(await eventually(() => countPoints(measurement, 'cpu'), (c) => c === 5001, 30_000)).toBe(5001);
    const rows = await influxql(`SELECT "cpu", "mem" FROM "${DB}"."raw"."${measurement}" WHERE "agent_id" = 'lpf-${RUN}-3' ORDER BY time ASC LIMIT 1`);
    expect(rows.results[0]!.series![0]!.values).toEqual([[t0 + 3, 0.3, 3]]);
    // the latest values: per agent, its newest line (read from the accept path, not the writer)
    const latest = await eventually(
      () => rpc.request('rpc.ingest.metrics.latest.v1', { agent_ids: [`lpf-${RUN}-3`, `lpf-ns-${RUN}`] }),
      (r) => r.items.every((i) => i.measurements[measurement] !== undefined),
    );
    expect(latest.items.map((i) => i.measurements[measurement])).toEqual([
      { cpu: { value: ((4903 % 997) / 10), time: new Date(t0 + 4903).toISOString() }, mem: { value: 4903 % 89, time: new Date(t0 + 4903).toISOString() } },
      { cpu: { value: 1, time: new Date(t0).toISOString() } },
    ]);
  }, 60_000);

  it('names an agent in an agents message once per interval, and at once when what it says about itself changed', async () => {
    const lineAgent = `agent-ann-lp-${RUN}`;
    const jsonAgent = `agent-ann-json-${RUN}`;
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 3; i++) {
      const r = await post(`/api/v2/write?precision=ms`, `ann_${RUN},agent_id=${lineAgent} v=${i} ${t0 + i}`, { authorization: `Token ${KEY_WRITE}` });
      expect(r.status).toBe(204);
    }
    const push = async (name: string, i: number) => {
      const r = await post('/api/v2/ingest', { agent: { id: jsonAgent, name }, points: [{ measurement: `ann_${RUN}`, fields: { v: i }, time: iso(t0 + i) }] }, auth);
      expect(r.status).toBe(202);
    };
    await push('Planner', 0);
    await push('Planner', 1);
    await push('Planner v2', 2);
    const batches = [...(await streamBatches(jsm)).values()];
    const namings = (id: string) => batches.flatMap((b) => b.agents.flatMap((a) => a.agents.filter((x) => x.id === id)));
    // every point is stored, each agent named only by its first batch and by the one that said something new
    expect(batches.flatMap((b) => b.points).filter((p) => p.measurement === `ann_${RUN}`)).toHaveLength(6);
    expect(namings(lineAgent)).toEqual([{ id: lineAgent }]);
    expect(namings(jsonAgent).map((a) => a.name)).toEqual(['Planner', 'Planner v2']);
  });

  it("names a known agent's later batches in a heartbeat message of its own, an interval after they came, not with the batch", async () => {
    const agentId = `agent-hb-apart-${RUN}`;
    const measurement = `hb_apart_${RUN}`;
    const write = async (i: number) => {
      const r = await post(`/api/v2/write?precision=ms`, `${measurement},agent_id=${agentId} v=${i} ${Date.now() - 60_000 + i}`, { authorization: `Token ${KEY_WRITE}`, 'x-request-id': `req-hb-${i}-${RUN}` });
      expect(r.status).toBe(204);
    };
    await write(0);
    const first = await batchOf(jsm, agentId);
    expect(first.lines).toHaveLength(1);
    // the interval of this suite is 3 s: past it the agent is a heartbeat
    await new Promise((r) => setTimeout(r, 3_100));
    const sentAt = Date.now();
    await write(1);
    const heartbeat = await eventually(
      async () => [...(await streamBatches(jsm)).values()].find((b) => b.lines.length === 0 && b.agents.some((m) => m.agents.some((a) => a.id === agentId))),
      (b) => b !== undefined,
      10_000,
    );
    // on its own (no lines), the line-protocol heartbeats of that time, received when the batch was
    expect(heartbeat).toBeDefined();
    expect(heartbeat!.agents).toHaveLength(1);
    expect(heartbeat!.agents[0]!).toMatchObject({ source: 'line', agents: expect.arrayContaining([{ id: agentId }]) });
    expect(heartbeat!.agents[0]!.received_at).toBeGreaterThanOrEqual(sentAt);
    expect(heartbeat!.agents[0]!.received_at).toBeLessThanOrEqual(Date.now());
    // with a request id of its own, not that of the request whose batch queued it
    expect(heartbeat!.requestIds).toHaveLength(1);
    expect(heartbeat!.requestIds[0]).toMatch(/^[0-9a-f-]{36}$/);
    // and the second batch itself was stored without an agents message naming it
    const batches = [...(await streamBatches(jsm)).values()];
    const withPoint = batches.filter((b) => b.points.some((p) => p.measurement === measurement && p.fields.v === 1));
    expect(withPoint).toHaveLength(1);
    expect(withPoint[0]!.agents.flatMap((m) => m.agents).filter((a) => a.id === agentId)).toEqual([]);
  }, 30_000);

  it('deletes the consumer the writer had before the stream carried line protocol, and consumes both subjects of lines with its own', async () => {
    await expect(jsm.consumers.info(STREAMS.TELEMETRY.name, FORMER_WRITER_DURABLE)).rejects.toThrow(/not found/i);
    const mine = await jsm.consumers.info(STREAMS.TELEMETRY.name, WRITER_DURABLE);
    expect(mine.config.filter_subject).toBe('evt.ingest.telemetry.lines.>');
  });

  it("takes over from the previous version's writer where it left off: what that one wrote is not written again, the rest is", async () => {
    const mine = await jsm.consumers.info(STREAMS.TELEMETRY.name, WRITER_DURABLE);
    expect([mine.config.deliver_policy, mine.config.opt_start_seq]).toEqual(['by_start_sequence', upgradeSeqs[1]]);
    const values = async () => (await influxql(`SELECT "v" FROM "${DB}"."raw"."upgrade_${RUN}"`)).results[0]?.series?.[0]?.values.map((r) => r[1]) ?? [];
    expect(await eventually(values, (v) => v.length >= 2)).toEqual([2, 3]);
    // no older writer pulls from the previous consumer: it is deleted although it still holds messages
    // (the uncompressed lines this version keeps publishing would otherwise pile up in it for nobody)
    await expect(jsm.consumers.info(STREAMS.TELEMETRY.name, PREVIOUS_WRITER_DURABLE)).rejects.toThrow(/not found/i);
  });

  it('refuses a point whose field type disagrees with what InfluxDB already holds', async () => {
    const agentId = `agent-types-${RUN}`;
    const measurement = `types_${RUN}`;
    expect((await post('/api/v2/ingest', { agent: { id: agentId }, points: [{ measurement, fields: { v: 1, label: 'a' } }] }, auth)).status).toBe(202);
    await eventually(() => countPoints(measurement, 'v'), (c) => c === 1);
    const json = await post('/api/v2/ingest', { agent: { id: agentId }, points: [{ measurement, fields: { other: 2 } }, { measurement, fields: { v: 'two', label: 3 } }] }, auth);
    expect(json.status).toBe(400);
    expect(((await json.json()) as { details: unknown[] }).details).toEqual([
      { path: 'points[1].fields.v', reason: `is a string but ${measurement}.v already holds a number` },
      { path: 'points[1].fields.label', reason: `is a number but ${measurement}.label already holds a string` },
    ]);
    const lines = await post('/api/v2/write?precision=ms', `# header\n${measurement},agent_id=${agentId} v=true ${Date.now()}`, { authorization: `Token ${KEY_WRITE}` });
    expect(lines.status).toBe(400);
    expect(((await lines.json()) as { details: unknown[] }).details).toEqual([{ path: 'lines[1].fields.v', reason: `is a boolean but ${measurement}.v already holds a number` }]);
    expect(await countPoints(measurement, 'v')).toBe(1);
  });

  it('forwards heartbeats to the registry and serves the agent its config with an ETag', async () => {
    const hb = await post(`/api/v2/agents/agent-hb-${RUN}/heartbeat`, { status: 'degraded', version: '2.0.0', config_version: 3 }, auth);
    expect(hb.status).toBe(200);
    expect(await hb.json()).toMatchObject({ id: `agent-hb-${RUN}`, status: 'degraded', version: '2.0.0', config_version: 3 });
    expect(heartbeats.at(-1)).toEqual({ agent_id: `agent-hb-${RUN}`, status: 'degraded', version: '2.0.0', config_version: 3 });
    expect((await post(`/api/v2/agents/agent-hb-${RUN}/heartbeat`, { status: 'sleepy' }, auth)).status).toBe(400);
    expect((await post(`/api/v2/agents/bad%20id/heartbeat`, {}, auth)).status).toBe(400);
    expect((await post(`/api/v2/agents/unknown-agent/heartbeat`, {}, auth)).status).toBe(404);
    expect((await post(`/api/v2/agents/agent-hb-${RUN}/heartbeat`, {})).status).toBe(401);

    const cfg = await fetch(`${BASE}/api/v2/agents/agent-hb-${RUN}/config`, { headers: auth });
    expect(cfg.status).toBe(200);
    expect(cfg.headers.get('etag')).toBe('"3"');
    expect(await cfg.json()).toEqual({ version: 3, config: { sample_every: '10s', agent: `agent-hb-${RUN}` } });
    const same = await fetch(`${BASE}/api/v2/agents/agent-hb-${RUN}/config`, { headers: { ...auth, 'if-none-match': '"3"' } });
    expect(same.status).toBe(304);
    expect(await same.text()).toBe('');
    const older = await fetch(`${BASE}/api/v2/agents/agent-hb-${RUN}/config`, { headers: { ...auth, 'if-none-match': '"2"' } });
    expect(older.status).toBe(200);
  });

  it('answers ingest rates and health over NATS', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const stats = await rpc.request('rpc.ingest.stats.v1', {});
    expect(stats.requests_per_second).toBeGreaterThan(0);
    expect(stats.points_per_second).toBeGreaterThan(20_000 / 60 - 1);
    const health = await rpc.request('rpc.ingest.health.v1', {});
    expect(health).toMatchObject({ service: 'ingest', status: 'ok' });
    expect(Object.keys(health.checks).sort()).toEqual(['influxdb', 'nats', 'redis']);
    const metrics = await (await fetch(`${BASE}/metrics`)).text();
    expect(metrics).toMatch(/agentmon_ingest_points_total\{source="json",service="ingest"\} \d+/);
  });

  it('loses nothing while InfluxDB is down: accepted points are written once it is back', async () => {
    const agentId = `agent-outage-${RUN}`;
    const measurement = `outage_${RUN}`;
    const t0 = Date.now() - 60_000;
    influxDown = true;
    try {
      const res = await post('/api/v2/ingest', { agent: { id: agentId }, points: Array.from({ length: 50 }, (_, i) => ({ measurement, fields: { v: i }, time: t0 + i })) }, auth);
      expect(res.status).toBe(202);
      await new Promise((r) => setTimeout(r, 1500));
      expect(await countPoints(measurement, 'v')).toBe(0);
    } finally {
      influxDown = false;
    }
    expect(await eventually(() => countPoints(measurement, 'v'), (c) => c === 50, 30_000)).toBe(50);
  }, 45_000);

  it("a writer consumer created again while the previous version's exists starts early enough for the compressed messages that one never reads", async () => {
    const measurement = `late_br_${RUN}`;
    const js = jetstream(nc);
    influxDown = true;
    try {
      // a compressed message, then an uncompressed one that an older writer, still running during a
      // rollout, acknowledges: its acknowledgements pass the compressed message it never reads
      const t = Date.now() - 1000;
      const packed = await js.publish('evt.ingest.telemetry.lines.br.v1', compressLines(Buffer.from(`${measurement},agent_id=agent-late-${RUN} v=1 ${t}`)), { msgID: `late-${RUN}:l0` });
      const plain = await js.publish('evt.ingest.telemetry.lines.v1', Buffer.from(`${measurement},agent_id=agent-late-${RUN} v=2 ${t + 1}`), { msgID: `late-plain-${RUN}:l0` });
      await jsm.consumers.add(STREAMS.TELEMETRY.name, {
        durable_name: PREVIOUS_WRITER_DURABLE,
        ack_policy: AckPolicy.Explicit,
        filter_subject: 'evt.ingest.telemetry.lines.v1',
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: plain.seq,
      });
      const older = await (await js.consumers.get(STREAMS.TELEMETRY.name, PREVIOUS_WRITER_DURABLE)).next();
      expect([older?.seq, packed.seq < plain.seq]).toEqual([plain.seq, true]);
      await older!.ackAck();
      // the writer's consumer is lost (deleted by an operator) and the writer creates it again
      const again = await deleteConsumerUnderService(jsm, STREAMS.TELEMETRY.name, WRITER_DURABLE);
      expect(again.config.opt_start_seq).toBeLessThanOrEqual(packed.seq);
    } finally {
      influxDown = false;
    }
    expect(await eventually(() => countPoints(measurement, 'v'), (c) => c === 2, 30_000)).toBe(2);
  }, 90_000);

  it('recovers when the TELEMETRY stream is deleted under it', async () => {
    const measurement = `recreated_${RUN}`;
    await jsm.streams.delete(STREAMS.TELEMETRY.name);
    const res = await post('/api/v2/ingest', { agent: { id: `agent-recreate-${RUN}` }, points: [{ measurement, fields: { v: 1 } }, { measurement, fields: { v: 2 }, time: Date.now() - 1000 }] }, auth);
    expect(res.status).toBe(202);
    expect(await eventually(() => countPoints(measurement, 'v'), (c) => c === 2, 30_000)).toBe(2);
  }, 45_000);

  it('escapes names and values in InfluxQL: hostile input stays data', async () => {
    const hostile = await rpc.request('rpc.ingest.metrics.historical.v1', {
      agent_id: 'x',
      measurement: `m" ; DROP DATABASE "${DB}" ; SELECT * FROM "m`,
      fields: [`f") FROM x; DROP DATABASE "${DB}"; --`],
      from: Date.now() - 60_000,
      to: Date.now(),
    });
    expect(hostile.series).toEqual([{ field: `f") FROM x; DROP DATABASE "${DB}"; --`, points: [] }]);
    const dbs = await influxql('SHOW DATABASES');
    expect(dbs.results[0]!.series![0]!.values.flat()).toContain(DB);
  });

  // last: it shuts the service down
  it('sends the heartbeats still queued when it shuts down', async () => {
    const agentId = `agent-hb-shutdown-${RUN}`;
    const write = async (i: number) => {
      const r = await post(`/api/v2/write?precision=ms`, `hb_shutdown_${RUN},agent_id=${agentId} v=${i} ${Date.now() - 60_000 + i}`, { authorization: `Token ${KEY_WRITE}` });
      expect(r.status).toBe(204);
    };
    await write(0);
    // past the suite's interval (3 s) the agent's next batch queues a heartbeat, due 3 s later
    await new Promise((r) => setTimeout(r, 3_100));
    const sentAt = Date.now();
    await write(1);
    const heartbeatsOf = async () => [...(await streamBatches(jsm)).values()].filter((b) => b.lines.length === 0 && b.agents.some((m) => m.agents.some((a) => a.id === agentId)));
    expect(await heartbeatsOf()).toEqual([]);
    await app.close();
    app = undefined as unknown as INestApplication;
    const sent = await heartbeatsOf();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.agents[0]!.received_at).toBeGreaterThanOrEqual(sentAt);
  }, 30_000);
});
