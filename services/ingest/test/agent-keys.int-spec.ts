/**
 * API keys on the ingest port beyond "has ingest:write": keys bound to one agent, and revocations
 * taking effect at once. The ingest service runs in-process against the test profile's NATS, Redis
 * and InfluxDB; auth and registry are answered by a double at the NATS boundary, which announces
 * revocations on JetStream (`evt.auth.revoked.v1`) as auth does.
 */
import 'reflect-metadata';
import { Controller, Module, type INestApplication, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport } from '@nestjs/microservices';
import { pino } from 'pino';
import { AppError, STREAMS, type Principal, type RevocationEvent, type RpcParsedRequest } from '@agentmon/contracts';
import { EventBus, RpcHandler } from '@agentmon/messaging';
import { createLogger } from '@agentmon/observability';
import { INTEGRATION_PORTS, TEST_INFRA } from '../../../test/support/test-env.js';
import { agentRecord } from '../../../test/support/agents.js';
import { resetStreams } from '../../../test/support/nats.js';
import { loadIngestConfig } from '../src/config.js';
import { startIngest } from '../src/ingest-app.js';

const BASE = `http://127.0.0.1:${INTEGRATION_PORTS.ingest}`;
const RUN = Date.now().toString(36);
const OWN = `bound-${RUN}`;
const OTHER = `other-${RUN}`;
/** How long a revocation may take to reach the replica (event delivery; the key cache holds answers for ten minutes). */
const DELIVERY_MS = 1000;

const KEYS = {
  bound: 'amk_boundToOneAgentKeyForIngestIntegration01',
  fleet: 'amk_fleetWideIngestKeyForIngestIntegration01',
  read: 'amk_readOnlyKeyForIngestAgentKeysIntegration1',
  revocable: 'amk_revocableKeyForIngestAgentKeysIntegratn1',
  ofUser: 'amk_keyOfAUserWhoIsDeactivatedIngestIntegrat1',
} as const;
const base = { kind: 'api_key', username: 'ci', role: 'operator' } as const;
const keys = new Map<string, Principal>([
  [KEYS.bound, { ...base, id: 'key-bound', user_id: 'u-1', permissions: ['ingest:write'], agent_id: OWN }],
  [KEYS.fleet, { ...base, id: 'key-fleet', user_id: 'u-1', permissions: ['ingest:write'] }],
  [KEYS.read, { ...base, id: 'key-read', user_id: 'u-1', permissions: ['read'] }],
  [KEYS.revocable, { ...base, id: 'key-revocable', user_id: 'u-1', permissions: ['ingest:write'] }],
  [KEYS.ofUser, { ...base, id: 'key-of-user', user_id: 'u-leaving', permissions: ['ingest:write'] }],
]);
let verifications = 0;

@Controller()
class AuthAndRegistryDouble {
  @RpcHandler('rpc.auth.api-key.verify.v1')
  async verify(req: RpcParsedRequest<'rpc.auth.api-key.verify.v1'>): Promise<Principal> {
    verifications++;
    const p = keys.get(req.key);
    if (!p) throw new AppError('unauthorized', 'API key is not valid');
    return p;
  }

  @RpcHandler('rpc.registry.agent.heartbeat.v1')
  async heartbeat(req: RpcParsedRequest<'rpc.registry.agent.heartbeat.v1'>) {
    return agentRecord(req.agent_id);
  }

  @RpcHandler('rpc.registry.agent.config.get.v1')
  async config(req: RpcParsedRequest<'rpc.registry.agent.config.get.v1'>) {
    return { version: 1, config: { agent: req.id } };
  }
}
@Module({ controllers: [AuthAndRegistryDouble] })
class DoublesModule {}

let app: INestApplication;
let doubles: INestMicroservice;
let bus: EventBus;

beforeAll(async () => {
  await resetStreams(TEST_INFRA.natsUrl);
  doubles = await NestFactory.createMicroservice(DoublesModule, {
    transport: Transport.NATS,
    options: { servers: [TEST_INFRA.natsUrl], queue: 'ingest-agent-keys-doubles' },
    logger: false,
  } as never);
  await doubles.listen();
  bus = await EventBus.connect(TEST_INFRA.natsUrl, 'ingest-agent-keys-fake-auth', pino({ level: 'silent' }));
  await bus.ensureStreams(['AUTH']);
  const config = loadIngestConfig({
    PORT: String(INTEGRATION_PORTS.ingest),
    HTTP_HOST: '127.0.0.1',
    NATS_URL: TEST_INFRA.natsUrl,
    REDIS_URL: TEST_INFRA.redisUrl,
    INFLUX_URL: TEST_INFRA.influxUrl,
    INFLUX_DATABASE: 'agentmon_int_agent_keys',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    // answers would be remembered for ten minutes: only the announcement can end a key sooner
    API_KEY_CACHE_MS: String(10 * 60_000),
  });
  app = await startIngest(config, createLogger('ingest', config.LOG_LEVEL));
}, 60_000);

afterAll(async () => {
  await app?.close();
  await doubles?.close();
  await bus?.close();
});

async function send(method: string, path: string, key: string, body?: unknown, contentType = 'application/json') {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
}
const batch = (agentId: string) => ({ agent: { id: agentId, name: agentId }, points: [{ measurement: 'binding_test', fields: { v: 1 } }] });
async function storedBatches(): Promise<number> {
  return (await bus.jsm.streams.info(STREAMS.TELEMETRY.name)).state.messages;
}
async function announce(revocation: Omit<Extract<RevocationEvent, { scope: 'api_key' }>, 'id' | 'at'> | Omit<Extract<RevocationEvent, { scope: 'user' }>, 'id' | 'at'>) {
  await bus.publish('evt.auth.revoked.v1', { id: crypto.randomUUID(), at: Date.now(), ...revocation } as RevocationEvent);
}
async function refusedWithin(path: string, key: string, body: unknown): Promise<number> {
  const started = Date.now();
  for (;;) {
    const { status } = await send('POST', path, key, body);
    if (status === 401) return Date.now() - started;
    if (Date.now() - started > DELIVERY_MS) throw new Error(`${path} still answers ${status} ${DELIVERY_MS} ms after the revocation`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('a key bound to one agent', () => {
  it('pushes a JSON batch for its agent, and is refused (403 naming agent.id) for another, storing nothing', async () => {
    expect(await send('POST', '/api/v2/ingest', KEYS.bound, batch(OWN))).toEqual({ status: 202, body: { accepted: 1 } });
    const before = await storedBatches();
    const other = await send('POST', '/api/v2/ingest', KEYS.bound, batch(OTHER));
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ statusCode: 403, error: 'Forbidden', details: [{ path: 'agent.id', reason: expect.stringContaining(OWN) }] });
    expect(other.body.message).toContain(`bound to agent ${OWN}`);
    // a batch without points would still register the other agent: refused as well
    const empty = await send('POST', '/api/v2/ingest', KEYS.bound, { agent: { id: OTHER }, points: [] });
    expect(empty.status).toBe(403);
    expect(await storedBatches()).toBe(before);
  });

  it('refuses line protocol naming every line of another agent, and takes lines of its own', async () => {
    const t = Date.now();
    const mixed = [`binding_test,agent_id=${OWN} v=1 ${t}`, `binding_test,agent_id=${OTHER} v=2 ${t}`, `binding_test,agent_id=${OWN} v=3 ${t + 1}`, `binding_test,agent_id=x${RUN} v=4 ${t}`].join('\n');
    const before = await storedBatches();
    const refused = await send('POST', '/api/v2/write?precision=ms', KEYS.bound, mixed, 'text/plain');
    expect(refused.status).toBe(403);
    expect(refused.body.details.map((d: { path: string }) => d.path)).toEqual(['lines[1].tags.agent_id', 'lines[3].tags.agent_id']);
    expect(await storedBatches()).toBe(before);
    const own = await send('POST', `/write?db=x&precision=ms`, KEYS.bound, `binding_test,agent_id=${OWN} v=5 ${t + 2}`, 'text/plain');
    expect(own.status).toBe(204);
  });

  it('refuses OTLP data points of another agent', async () => {
    const at = `${BigInt(Date.now() - 1000) * 1_000_000n}`;
    const otlp = (agentId: string) => ({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'agent.id', value: { stringValue: agentId } }] },
          scopeMetrics: [{ scope: { name: 'binding' }, metrics: [{ name: 'binding.gauge', gauge: { dataPoints: [{ timeUnixNano: at, asDouble: 1 }] } }] }],
        },
      ],
    });
    expect((await send('POST', '/v1/metrics', KEYS.bound, otlp(OWN))).status).toBe(200);
    expect((await send('POST', '/v1/metrics', KEYS.bound, otlp(OTHER))).status).toBe(403);
  });

  it('heartbeats and reads the config of its own agent only (403 naming the id for another)', async () => {
    expect((await send('POST', `/api/v2/agents/${OWN}/heartbeat`, KEYS.bound, {})).status).toBe(200);
    const cfg = await send('GET', `/api/v2/agents/${OWN}/config`, KEYS.bound);
    expect(cfg).toEqual({ status: 200, body: { version: 1, config: { agent: OWN } } });
    for (const [method, path, body] of [
      ['POST', `/api/v2/agents/${OTHER}/heartbeat`, {}],
      ['GET', `/api/v2/agents/${OTHER}/config`, undefined],
    ] as const) {
      const res = await send(method, path, KEYS.bound, body);
      expect(res.status).toBe(403);
      expect(res.body.details).toEqual([{ path: 'id', reason: expect.stringContaining(OWN) }]);
    }
  });
});

describe('keys that are not bound', () => {
  it('an ingest key keeps its fleet-wide rights: any agent', async () => {
    expect((await send('POST', '/api/v2/ingest', KEYS.fleet, batch(OTHER))).status).toBe(202);
    expect((await send('POST', '/api/v2/ingest', KEYS.fleet, batch(OWN))).status).toBe(202);
    expect((await send('POST', `/api/v2/agents/${OTHER}/heartbeat`, KEYS.fleet, {})).status).toBe(200);
    expect((await send('GET', `/api/v2/agents/${OWN}/config`, KEYS.fleet)).status).toBe(200);
  });

  it('a read key cannot push, heartbeat or read configs here', async () => {
    expect((await send('POST', '/api/v2/ingest', KEYS.read, batch(OWN))).status).toBe(403);
    expect((await send('POST', `/api/v2/agents/${OWN}/heartbeat`, KEYS.read, {})).status).toBe(403);
    expect((await send('GET', `/api/v2/agents/${OWN}/config`, KEYS.read)).status).toBe(403);
  });
});

describe('revocation takes effect at once (evt.auth.revoked.v1)', () => {
  it('a revoked key is refused right after the announcement, although its answer was cached', async () => {
    expect((await send('POST', '/api/v2/ingest', KEYS.revocable, batch(OWN))).status).toBe(202);
    const asked = verifications;
    expect((await send('POST', '/api/v2/ingest', KEYS.revocable, batch(OWN))).status).toBe(202);
    expect(verifications).toBe(asked); // cached

    keys.delete(KEYS.revocable);
    await announce({ scope: 'api_key', api_key_id: 'key-revocable', user_id: 'u-1', reason: 'api_key_revoked' });
    expect(await refusedWithin('/api/v2/ingest', KEYS.revocable, batch(OWN))).toBeLessThan(DELIVERY_MS);
    // the other keys of the same user stay cached
    const again = verifications;
    expect((await send('POST', '/api/v2/ingest', KEYS.fleet, batch(OWN))).status).toBe(202);
    expect(verifications).toBe(again);
  });

  it('every key of a deactivated user is refused right after the announcement', async () => {
    expect((await send('POST', '/api/v2/ingest', KEYS.ofUser, batch(OWN))).status).toBe(202);
    keys.delete(KEYS.ofUser);
    await announce({ scope: 'user', user_id: 'u-leaving', reason: 'user_deactivated' });
    expect(await refusedWithin('/api/v2/ingest', KEYS.ofUser, batch(OWN))).toBeLessThan(DELIVERY_MS);
  });
});
