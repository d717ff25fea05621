import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { bootstrapService } from '@agentmon/http-kit';
import { createLogger } from '@agentmon/observability';
import { EventBus, RpcClient } from '@agentmon/messaging';
import { AppError, TelemetryLines, type AgentInfo, type AgentStatusChanged, type Principal } from '@agentmon/contracts';
import { TEST_INFRA, INTEGRATION_PORTS } from '../../../test/support/test-env.js';
import { dropDatabase } from '../../../test/support/database.js';
import { resetStreams } from '../../../test/support/nats.js';
import { AppModule } from '../src/app.module.js';
import { RegistryConfigSchema } from '../src/config.js';
import { AgentsService } from '../src/agents/agents.service.js';

const DB = TEST_INFRA.postgresUrl('registry_int');
const operator: Principal = { kind: 'user', id: 'u1', user_id: 'u1', username: 'olga', role: 'operator', permissions: ['read', 'write'] };

describe('registry service (real PostgreSQL and NATS)', () => {
  let app: INestApplication;
  let rpc: RpcClient;
  let bus: EventBus;
  /** the registry's own database, read by the tests */
  let pg: Client;
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
    pg = new Client({ connectionString: DB });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await bus?.close();
    await rpc?.close();
    await app?.close();
  });

  /** What ingest publishes for an accepted batch: its agents, and its points as lines. */
  async function publishAgents(agents: AgentInfo[], receivedAt = Date.now()) {
    const batchId = crypto.randomUUID();
    await bus.publish('evt.ingest.telemetry.agents.v1', { batch_id: batchId, received_at: receivedAt, source: 'json', agents }, { msgId: `${batchId}:agents` });
    const points = agents.map((a) => ({ agent_id: a.id, measurement: 'agent_metrics', tags: {}, fields: { cpu_usage: 10 }, time: receivedAt }));
    await bus.publish('evt.ingest.telemetry.lines.v1', TelemetryLines.fromPoints(points), { msgId: `${batchId}:lines` });
  }
  const publishBatch = (agentId: string, extra: Partial<AgentInfo> = {}, receivedAt?: number) =>
    publishAgents([{ id: agentId, name: `Agent ${agentId}`, type: 'llm-agent', region: 'eu-west-1', tags: { env: 'prod' }, ...extra }], receivedAt);

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
    const rows = await eventually(
      async () => (await pg.query(`SELECT subject, payload->>'action' AS action, published_at FROM outbox WHERE subject = 'evt.audit.recorded.v1'`)).rows,
      (r) => r.length >= 5 && r.every((x) => x.published_at !== null),
    );
    expect(rows.map((r) => r.action)).toEqual(expect.arrayContaining(['agent.create', 'agent.update', 'agent.config.update', 'agent.delete']));
  });

  describe('heartbeat writes', () => {
    /** The stored row; xmin changes with every write of it, even one that changes no value. */
    const stored = async (id: string) =>
      (await pg.query<{ xmin: string; last_seen: Date; status: string; version: string | null }>('SELECT xmin, last_seen, status, version FROM agents WHERE id = $1', [id])).rows[0];
    let barriers = 0;
    /** Messages are handled in order: once a new agent published after them is registered, they were handled. */
    async function handled(): Promise<void> {
      const id = `barrier-${++barriers}`;
      await publishAgents([{ id }]);
      await eventually(() => stored(id), (r) => r !== undefined);
    }

    // Received "a minute from now": within the throttle of each other by construction, never older
    // than the heartbeat timeout however slow the machine, and never swept offline.
    const T = Date.now() + 60_000;

    it('a second batch within the throttle writes nothing; new info is written at once', async () => {
      await publishBatch('agent-throttled', {}, T);
      const first = await eventually(() => stored('agent-throttled'), (r) => r !== undefined);
      expect(first!.last_seen.getTime()).toBe(T);

      // same info, 100 ms later (the throttle is 1500 / 6 = 250 ms): no write at all
      await publishBatch('agent-throttled', {}, T + 100);
      await publishAgents([{ id: 'agent-throttled' }], T + 120); // line protocol: only its id
      await handled();
      const second = await stored('agent-throttled');
      expect(second).toEqual(first);

      // something new about itself is written at once, with the newer last_seen
      await publishBatch('agent-throttled', { version: '2.0.0' }, T + 150);
      await handled();
      expect(await stored('agent-throttled')).toMatchObject({ version: '2.0.0', last_seen: new Date(T + 150) });

      // past the throttle the last_seen is written again
      await publishBatch('agent-throttled', { version: '2.0.0' }, T + 500);
      await handled();
      expect((await stored('agent-throttled'))!.last_seen.getTime()).toBe(T + 500);
    });

    it('an agent another replica marked offline comes back online at its next batch, throttle or not', async () => {
      // what another replica's offline sweep does: the row, then its status event (through its outbox)
      await pg.query(`UPDATE agents SET status = 'offline', status_changed_at = now() WHERE id = 'agent-throttled'`);
      await bus.publish('evt.registry.agent.status-changed.v1', { agent_id: 'agent-throttled', from: 'online', to: 'offline', at: new Date().toISOString() }, { msgId: crypto.randomUUID() });
      // 100 ms after the last write, nothing new: only the status event makes this replica write it
      const back = await eventually(
        async () => {
          await publishAgents([{ id: 'agent-throttled' }], T + 600);
          await handled();
          return stored('agent-throttled');
        },
        (r) => r?.status === 'online',
      );
      expect(back!.last_seen.getTime()).toBe(T + 600);
      await eventually(async () => statusEvents.filter((e) => e.agent_id === 'agent-throttled'), (e) => e.some((x) => x.from === 'offline' && x.to === 'online'));
    });

    it('one message registers many agents together; concurrent writers register each agent once', async () => {
      const ids = Array.from({ length: 40 }, (_, i) => `agent-many-${String(i).padStart(2, '0')}`);
      const agents = app.get(AgentsService);
      const at = new Date(T);
      // two writers at once (as two replicas would be), with the agents in opposite orders
      await Promise.all([
        agents.recordTelemetry(ids.map((id) => ({ id, tags: { rack: 'a' } })), at),
        agents.recordTelemetry([...ids].reverse().map((id) => ({ id, tags: { rack: 'a' } })), at),
      ]);
      const rows = (await pg.query<{ id: string; status: string; tags: Record<string, string> }>(
        `SELECT a.id, a.status, (SELECT jsonb_object_agg(key, value) FROM agent_tags t WHERE t.agent_id = a.id) AS tags FROM agents a WHERE a.id LIKE 'agent-many-%' ORDER BY a.id`,
      )).rows;
      expect(rows).toEqual(ids.map((id) => ({ id, status: 'online', tags: { rack: 'a' } })));
      const events = (await pg.query<{ subject: string; agent_id: string }>(
        `SELECT subject, COALESCE(payload->>'agent_id', payload->>'id') AS agent_id FROM outbox WHERE COALESCE(payload->>'agent_id', payload->>'id') LIKE 'agent-many-%'`,
      )).rows;
      for (const subject of ['evt.registry.agent.registered.v1', 'evt.registry.agent.status-changed.v1']) {
        expect(events.filter((e) => e.subject === subject).map((e) => e.agent_id).sort()).toEqual(ids);
      }
    });
  });

  describe('batches of telemetry messages', () => {
    /** A counter of the registry's /metrics (labelled with the service only). */
    async function counter(name: string): Promise<number> {
      const text = await (await fetch(`http://127.0.0.1:${INTEGRATION_PORTS.registry}/metrics`)).text();
      const value = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1];
      if (value === undefined) throw new Error(`${name} is not on /metrics`);
      return Number(value);
    }
    const T = Date.now() + 60_000;

    it('writes messages published together with fewer transactions than messages', async () => {
      const transactions = await counter('agentmon_registry_heartbeat_transactions_total');
      const messages = await counter('agentmon_registry_telemetry_messages_total');
      const ids = Array.from({ length: 20 }, (_, i) => `agent-together-${String(i).padStart(2, '0')}`);
      // each message registers a new agent: none is skipped by the write throttle
      await Promise.all(
        ids.map((id, i) => bus.publish('evt.ingest.telemetry.agents.v1', { batch_id: id, received_at: T + i, source: 'json', agents: [{ id }] }, { msgId: id })),
      );
      const rows = await eventually(
        async () => (await pg.query<{ id: string; status: string }>(`SELECT id, status FROM agents WHERE id LIKE 'agent-together-%' ORDER BY id`)).rows,
        (r) => r.length === ids.length,
      );
      expect(rows).toEqual(ids.map((id) => ({ id, status: 'online' })));
      // both counters move together, just after the commit that made the rows visible
      const handledMessages = await eventually(async () => (await counter('agentmon_registry_telemetry_messages_total')) - messages, (n) => n >= ids.length);
      const written = (await counter('agentmon_registry_heartbeat_transactions_total')) - transactions;
      expect(handledMessages).toBe(ids.length);
      expect(written).toBeGreaterThanOrEqual(1);
      expect(written).toBeLessThan(ids.length);
    });

    it('one transaction for several messages stores what they would have stored one by one', async () => {
      const agents = app.get(AgentsService);
      const stale = Date.now() - 60_000;
      for (const id of ['merge-back', 'merge-stale']) await rpc.request('rpc.registry.agent.create.v1', { principal: operator, agent: { id } });
      const transactions = await counter('agentmon_registry_heartbeat_transactions_total');
      const written = await agents.recordTelemetryBatch([
        { received_at: T + 30, agents: [{ id: 'merge-a', name: 'A', version: '1', tags: { env: 'prod', rack: 'r1' } }, { id: 'merge-b' }] },
        // older than the one before (a redelivery): last_seen keeps the newest, but what it says is later
        { received_at: T + 10, agents: [{ id: 'merge-a', version: '2', tags: { rack: 'r2' } }] },
        { received_at: T + 20, agents: [{ id: 'merge-a' }, { id: 'merge-b', host: 'h-b' }] },
        // offline agents: one with fresh telemetry in the batch comes back, one with only stale telemetry does not
        { received_at: stale, agents: [{ id: 'merge-back' }, { id: 'merge-stale' }] },
        { received_at: T, agents: [{ id: 'merge-back' }] },
      ]);
      expect(written).toBe(4);
      expect((await counter('agentmon_registry_heartbeat_transactions_total')) - transactions).toBe(1);
      const rows = (
        await pg.query<{ id: string; name: string; version: string | null; host: string | null; status: string; last_seen: Date; tags: Record<string, string> | null }>(
          `SELECT a.id, a.name, a.version, a.host, a.status, a.last_seen,
                  (SELECT jsonb_object_agg(key, value) FROM agent_tags t WHERE t.agent_id = a.id) AS tags
           FROM agents a WHERE a.id LIKE 'merge-%' ORDER BY a.id`,
        )
      ).rows;
      expect(rows).toEqual([
        { id: 'merge-a', name: 'A', version: '2', host: null, status: 'online', last_seen: new Date(T + 30), tags: { env: 'prod', rack: 'r2' } },
        { id: 'merge-b', name: 'merge-b', version: null, host: 'h-b', status: 'online', last_seen: new Date(T + 30), tags: null },
        { id: 'merge-back', name: 'merge-back', version: null, host: null, status: 'online', last_seen: new Date(T), tags: null },
        { id: 'merge-stale', name: 'merge-stale', version: null, host: null, status: 'offline', last_seen: new Date(stale), tags: null },
      ]);
      // each agent's events carry its own time
      const events = (
        await pg.query<{ subject: string; id: string; at: string }>(
          `SELECT subject, COALESCE(payload->>'agent_id', payload->>'id') AS id, COALESCE(payload->>'at', payload->>'last_seen') AS at
           FROM outbox WHERE COALESCE(payload->>'agent_id', payload->>'id') IN ('merge-a', 'merge-b', 'merge-back') AND subject <> 'evt.audit.recorded.v1'
           ORDER BY 2, 1`,
        )
      ).rows;
      const iso = (ms: number) => new Date(ms).toISOString();
      expect(events).toEqual([
        { subject: 'evt.registry.agent.registered.v1', id: 'merge-a', at: iso(T + 30) },
        { subject: 'evt.registry.agent.status-changed.v1', id: 'merge-a', at: iso(T + 30) },
        { subject: 'evt.registry.agent.registered.v1', id: 'merge-b', at: iso(T + 30) },
        { subject: 'evt.registry.agent.status-changed.v1', id: 'merge-b', at: iso(T + 30) },
        { subject: 'evt.registry.agent.status-changed.v1', id: 'merge-back', at: iso(T) },
      ]);
    });
  });

  it('refuses payloads that break the contract with 400 naming the field', async () => {
    const err = await rpc.request('rpc.registry.agent.get.v1', { id: 'bad id' }).catch((e) => e);
    expect(err.statusCode).toBe(400);
    expect(err.details[0].path).toBe('id');
  });
});
