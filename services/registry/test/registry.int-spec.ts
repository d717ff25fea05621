import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { bootstrapService } from '@agentmon/http-kit';
import { createLogger } from '@agentmon/observability';
import { EventBus, RpcClient } from '@agentmon/messaging';
import { AppError, type AgentStatusChanged, type Principal } from '@agentmon/contracts';
import { TEST_INFRA, INTEGRATION_PORTS } from '../../../test/support/test-env.js';
import { dropDatabase } from '../../../test/support/database.js';
import { resetStreams } from '../../../test/support/nats.js';
import { AppModule } from '../src/app.module.js';
import { RegistryConfigSchema } from '../src/config.js';

const DB = TEST_INFRA.postgresUrl('registry_int');
const operator: Principal = { kind: 'user', id: 'u1', user_id: 'u1', username: 'olga', role: 'operator', permissions: ['read', 'write'] };

describe('registry service (real PostgreSQL and NATS)', () => {
  let app: INestApplication;
  let rpc: RpcClient;
  let bus: EventBus;
  const statusEvents: AgentStatusChanged[] = [];
  const logger = createLogger('registry-test', (process.env.TEST_LOG_LEVEL as 'warn') ?? 'silent');

  beforeAll(async () => {
    await dropDatabase(DB);
    await resetStreams(TEST_INFRA.natsUrl);
    const config = RegistryConfigSchema.parse({
      NATS_URL: TEST_INFRA.natsUrl,
      DATABASE_URL: DB,
      PORT: String(INTEGRATION_PORTS.registry),
      HTTP_HOST: '127.0.0.1',
      HEARTBEAT_TIMEOUT_MS: '1500',
      OFFLINE_SWEEP_INTERVAL_MS: '300',
      LOG_LEVEL: 'silent',
    });
    app = await bootstrapService({
      service: 'registry',
      module: AppModule.forRoot(config, logger),
      logger,
      port: config.PORT,
      host: config.HTTP_HOST,
      natsUrl: config.NATS_URL,
      rpc: true,
    });
    rpc = new RpcClient(TEST_INFRA.natsUrl);
    await rpc.connect();
    bus = await EventBus.connect(TEST_INFRA.natsUrl, 'registry-test', logger);
    bus.subscribeLive(['evt.registry.agent.status-changed.v1'], (e) => statusEvents.push(e));
  });

  afterAll(async () => {
    await bus?.close();
    await rpc?.close();
    await app?.close();
  });

  const publishBatch = (agentId: string, extra: object = {}) =>
    bus.publish(
      'evt.ingest.telemetry.batch.v1',
      {
        batch_id: crypto.randomUUID(),
        chunk: 0,
        chunks: 1,
        received_at: Date.now(),
        source: 'json',
        agents: [{ id: agentId, name: `Agent ${agentId}`, type: 'llm-agent', region: 'eu-west-1', tags: { env: 'prod' }, ...extra }],
        points: [{ agent_id: agentId, measurement: 'agent_metrics', tags: {}, fields: { cpu_usage: 10 }, time: Date.now() }],
      },
      { msgId: crypto.randomUUID() },
    );

  async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 8000): Promise<T> {
    const until = Date.now() + ms;
    let last: T = await fn();
    while (!ok(last)) {
      if (Date.now() > until) throw new Error(`condition not met; last value ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 100));
      last = await fn();
    }
    return last;
  }

  it('registers an agent on its first telemetry batch and shows it online', async () => {
    await publishBatch('agent-1');
    const agent = await eventually(
      () => rpc.request('rpc.registry.agent.get.v1', { id: 'agent-1' }).catch(() => null),
      (a) => a !== null,
    );
    expect(agent).toMatchObject({ id: 'agent-1', name: 'Agent agent-1', type: 'llm-agent', region: 'eu-west-1', status: 'online', tags: { env: 'prod' } });
    expect(Date.now() - Date.parse(agent!.last_seen!)).toBeLessThan(60_000);
    await eventually(async () => statusEvents.filter((e) => e.agent_id === 'agent-1'), (e) => e.some((x) => x.to === 'online'));
  });

  it('lists agents with filters and keyset paging', async () => {
    await publishBatch('agent-2', { tags: { env: 'dev' } });
    await publishBatch('agent-3');
    await eventually(() => rpc.request('rpc.registry.agent.counts.v1', {}), (c) => c.total >= 3);
    const page1 = await rpc.request('rpc.registry.agent.list.v1', { limit: 2 });
    expect(page1.items.map((a) => a.id)).toEqual(['agent-1', 'agent-2']);
    expect(page1.next_cursor).not.toBeNull();
    const page2 = await rpc.request('rpc.registry.agent.list.v1', { limit: 2, cursor: page1.next_cursor! });
    expect(page2.items.map((a) => a.id)).toEqual(['agent-3']);
    expect(page2.next_cursor).toBeNull();
    const dev = await rpc.request('rpc.registry.agent.list.v1', { tag: 'env:dev' });
    expect(dev.items.map((a) => a.id)).toEqual(['agent-2']);
    const q = await rpc.request('rpc.registry.agent.list.v1', { q: 'agent-3' });
    expect(q.items.map((a) => a.id)).toEqual(['agent-3']);
    await expect(rpc.request('rpc.registry.agent.list.v1', { cursor: '%%%' })).rejects.toMatchObject({ statusCode: 400 });
  });

  it('marks an agent offline after the heartbeat timeout and emits agent_status_changed', async () => {
    await publishBatch('agent-quiet');
    await eventually(() => rpc.request('rpc.registry.agent.get.v1', { id: 'agent-quiet' }).catch(() => null), (a) => a?.status === 'online');
    const offline = await eventually(() => rpc.request('rpc.registry.agent.get.v1', { id: 'agent-quiet' }), (a) => a.status === 'offline', 6000);
    expect(offline.status).toBe('offline');
    await eventually(async () => statusEvents.filter((e) => e.agent_id === 'agent-quiet'), (e) => e.some((x) => x.from === 'online' && x.to === 'offline'));
    // it comes back with its next push
    await publishBatch('agent-quiet');
    await eventually(() => rpc.request('rpc.registry.agent.get.v1', { id: 'agent-quiet' }), (a) => a.status === 'online');
  });

  it('takes heartbeats with a degraded status and a config version', async () => {
    const a = await rpc.request('rpc.registry.agent.heartbeat.v1', { agent_id: 'agent-hb', status: 'degraded', config_version: 3 });
    expect(a).toMatchObject({ id: 'agent-hb', status: 'degraded', config_version: 3 });
    const ok = await rpc.request('rpc.registry.agent.heartbeat.v1', { agent_id: 'agent-hb', status: 'ok' });
    expect(ok.status).toBe('online');
  });

  it('pre-registers, updates, versions configs and deletes, refusing duplicates and unknown ids', async () => {
    const created = await rpc.request('rpc.registry.agent.create.v1', { principal: operator, agent: { id: 'pre-1', name: 'Pre', tags: { team: 'a' } } });
    expect(created).toMatchObject({ id: 'pre-1', status: 'offline', last_seen: null, tags: { team: 'a' } });
    await expect(rpc.request('rpc.registry.agent.create.v1', { principal: operator, agent: { id: 'pre-1' } })).rejects.toMatchObject({ statusCode: 409 });
    const updated = await rpc.request('rpc.registry.agent.update.v1', { principal: operator, id: 'pre-1', patch: { name: 'Renamed', tags: { team: 'b' } } });
    expect(updated).toMatchObject({ name: 'Renamed', tags: { team: 'b' } });
    expect(await rpc.request('rpc.registry.agent.config.get.v1', { id: 'pre-1' })).toEqual({ version: 0, config: {} });
    expect(await rpc.request('rpc.registry.agent.config.put.v1', { principal: operator, id: 'pre-1', config: { a: 1 } })).toEqual({ version: 1, config: { a: 1 } });
    expect(await rpc.request('rpc.registry.agent.config.put.v1', { principal: operator, id: 'pre-1', config: { a: 2 } })).toEqual({ version: 2, config: { a: 2 } });
    expect(await rpc.request('rpc.registry.agent.config.get.v1', { id: 'pre-1' })).toEqual({ version: 2, config: { a: 2 } });
    await rpc.request('rpc.registry.agent.delete.v1', { principal: operator, id: 'pre-1' });
    const err = await rpc.request('rpc.registry.agent.get.v1', { id: 'pre-1' }).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err.statusCode).toBe(404);
  });

  it('records its changes as audit events through the outbox', async () => {
    const pg = new Client({ connectionString: DB });
    await pg.connect();
    try {
      const rows = await eventually(
        async () => (await pg.query(`SELECT subject, payload->>'action' AS action, published_at FROM outbox WHERE subject = 'evt.audit.recorded.v1'`)).rows,
        (r) => r.length >= 5 && r.every((x) => x.published_at !== null),
      );
      expect(rows.map((r) => r.action)).toEqual(expect.arrayContaining(['agent.create', 'agent.update', 'agent.config.update', 'agent.delete']));
    } finally {
      await pg.end();
    }
  });

  it('refuses payloads that break the contract with 400 naming the field', async () => {
    const err = await rpc.request('rpc.registry.agent.get.v1', { id: 'bad id' }).catch((e) => e);
    expect(err.statusCode).toBe(400);
    expect(err.details[0].path).toBe('id');
  });
});
