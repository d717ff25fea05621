import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { ClientNats } from '@nestjs/microservices';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { firstValueFrom } from 'rxjs';
import { Redis } from 'ioredis';
import { bootstrapService } from '@agentmon/http-kit';
import { createLogger } from '@agentmon/observability';
import { EventBus, RpcClient } from '@agentmon/messaging';
import {
  AppError,
  STREAMS,
  TelemetryLines,
  type Agent,
  type Alert,
  type AlertEvent,
  type AuditEvent,
  type Principal,
  type RpcRequest,
  type StoredPoint,
} from '@agentmon/contracts';
import { TEST_INFRA, INTEGRATION_PORTS } from '../../../test/support/test-env.js';
import { dropDatabase } from '../../../test/support/database.js';
import { agentRecord } from '../../../test/support/agents.js';
import { resetStreams } from '../../../test/support/nats.js';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module.js';
import { EVALUATOR_DURABLE } from '../src/evaluation/telemetry-evaluator.service.js';
import { RuleCache } from '../src/rules/rule-cache.service.js';
import { AlertStateService } from '../src/alerts/alert-state.service.js';
import { EvaluationStore } from '../src/evaluation/sample-store.js';
import { AlertingConfigSchema } from '../src/config.js';

const DB = TEST_INFRA.postgresUrl('alerting_int');
const REDIS_PREFIX = 'agentmon:test:alerting-int:';
const operator: Principal = { kind: 'user', id: 'u1', user_id: 'u1', username: 'olga', role: 'operator', permissions: ['read', 'write'] };
/** unique per run so that nothing left on the shared test NATS can be mistaken for ours */
const run = randomUUID().slice(0, 8);
const agentId = (name: string) => `int-${run}-${name}`;

/** The agents the registry test double knows. */
const registryAgents = new Map<string, Agent>();
function registerAgent(id: string, tags: Record<string, string>, groups: string[]): void {
  registryAgents.set(id, agentRecord(id, { type: 'llm-agent', version: '1.0.0', tags, groups }));
}

const cpuRule = (name: string, extra: Partial<RpcRequest<'rpc.alerting.rule.create.v1'>['rule']> = {}): RpcRequest<'rpc.alerting.rule.create.v1'>['rule'] => ({
  name,
  severity: 'critical',
  condition: { type: 'threshold', measurement: 'agent_metrics', field: 'cpu_usage', aggregation: 'last', window: '1m', op: '>', value: 90 },
  channels: [randomUUID()],
  labels: { team: 'search' },
  ...extra,
});

describe('alerting service (real PostgreSQL, Redis and NATS JetStream)', () => {
  let app: INestApplication;
  let rpc: RpcClient;
  let bus: EventBus;
  let raw: ClientNats;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let redis: Redis;
  const logger = createLogger('alerting-test', (process.env.TEST_LOG_LEVEL as 'warn') ?? 'silent');

  beforeAll(async () => {
    await dropDatabase(DB);
    await resetStreams(TEST_INFRA.natsUrl);
    redis = new Redis(TEST_INFRA.redisUrl);
    const stale = await redis.keys(`${REDIS_PREFIX}*`);
    if (stale.length) await redis.del(...stale);

    // A test double of the registry at the NATS boundary: answers rpc.registry.agent.get.v1 in the
    // wire format of Nest's NATS transport, 404 for agents it does not know.
    nc = await connect({ servers: TEST_INFRA.natsUrl });
    js = jetstream(nc);
    nc.subscribe('rpc.registry.agent.get.v1', {
      callback: (err, msg) => {
        if (err) return;
        const packet = JSON.parse(msg.string()) as { id: string; data: { id: string } };
        const agent = registryAgents.get(packet.data.id);
        const reply = agent
          ? { id: packet.id, response: agent, isDisposed: true }
          : { id: packet.id, err: { statusCode: 404, error: 'Not Found', message: `agent ${packet.data.id} not found` }, isDisposed: true };
        msg.respond(JSON.stringify(reply));
      },
    });
    await nc.flush();

    const config = AlertingConfigSchema.parse({
      NATS_URL: TEST_INFRA.natsUrl,
      DATABASE_URL: DB,
      REDIS_URL: TEST_INFRA.redisUrl,
      REDIS_KEY_PREFIX: REDIS_PREFIX,
      PORT: String(INTEGRATION_PORTS.alerting),
      HTTP_HOST: '127.0.0.1',
      EVALUATION_TICK_MS: '300',
      LOG_LEVEL: 'silent',
    });
    app = await bootstrapService({
      service: 'alerting',
      module: AppModule.forRoot(config, logger),
      logger,
      port: config.PORT,
      host: config.HTTP_HOST,
      natsUrl: config.NATS_URL,
      rpc: true,
    });
    rpc = new RpcClient(TEST_INFRA.natsUrl);
    await rpc.connect();
    bus = await EventBus.connect(TEST_INFRA.natsUrl, 'alerting-test', logger);
    raw = new ClientNats({ servers: TEST_INFRA.natsUrl } as never);
    await raw.connect();
  }, 60_000);

  afterAll(async () => {
    await raw?.close();
    await bus?.close();
    await rpc?.close();
    await app?.close();
    await nc?.drain();
    await redis?.quit();
  });

  /**
   * What ingest publishes for an accepted batch: its agents, and its points as lines (what the
   * evaluator reads), compressed as ingest sends large batches when `compressed`.
   */
  async function publishPoints(points: { agent_id: string; fields: StoredPoint['fields']; time?: number; measurement?: string }[], compressed = false) {
    const batchId = randomUUID();
    const now = Date.now();
    const full: StoredPoint[] = points.map((p) => ({
      agent_id: p.agent_id,
      measurement: p.measurement ?? 'agent_metrics',
      tags: {},
      fields: p.fields,
      time: p.time ?? now,
    }));
    const agents = [...new Set(full.map((p) => p.agent_id))].map((id) => ({ id }));
    await bus.publish('evt.ingest.telemetry.agents.v1', { batch_id: batchId, received_at: now, source: 'json', agents }, { msgId: `${batchId}:agents` });
    const subject = compressed ? 'evt.ingest.telemetry.lines.br.v1' : 'evt.ingest.telemetry.lines.v1';
    await bus.publish(subject, TelemetryLines.fromPoints(full), { msgId: `${batchId}:lines` });
  }
  const cpu = (agent: string, value: number, time?: number, compressed = false) =>
    publishPoints([{ agent_id: agent, fields: { cpu_usage: value }, ...(time ? { time } : {}) }], compressed);

  async function eventually<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
    const until = Date.now() + ms;
    let last: T = await fn();
    while (!ok(last)) {
      if (Date.now() > until) throw new Error(`${what}: not reached in ${ms} ms; last value ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 100));
      last = await fn();
    }
    return last;
  }

  /** Every message stored on a stream for a subject (an ordered consumer reads the stream from the start). */
  async function streamMessages<T>(stream: string, subject: string): Promise<T[]> {
    const consumer = await js.consumers.get(stream, { filter_subjects: subject });
    const info = await consumer.info(true);
    if (info.num_pending === 0) return [];
    const out: T[] = [];
    const messages = await consumer.fetch({ max_messages: 10_000, expires: 2_000 });
    for await (const m of messages) {
      out.push(m.json<T>());
      if (m.info.pending === 0) break;
    }
    return out;
  }
  const alertEvents = async (kind: 'fired' | 'resolved', alertId: string) =>
    (await streamMessages<AlertEvent>(STREAMS.EVENTS.name, `evt.alerting.alert.${kind}.v1`)).filter((e) => e.alert.id === alertId);
  const auditEvents = async (resourceId: string) =>
    (await streamMessages<AuditEvent>(STREAMS.AUDIT.name, 'evt.audit.recorded.v1')).filter((e) => e.resource_id === resourceId);

  const activeFor = async (agent: string) => (await rpc.request('rpc.alerting.alert.active.v1', { agent_id: agent })).items;

  it('reports its dependencies on /health/ready and over NATS', async () => {
    const res = await fetch(`http://127.0.0.1:${INTEGRATION_PORTS.alerting}/health/ready`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { checks: Record<string, { status: string }> };
    expect(Object.keys(body.checks).sort()).toEqual(['nats', 'postgres', 'redis']);
    const health = await rpc.request('rpc.alerting.health.v1', {});
    expect(health).toMatchObject({ service: 'alerting', status: 'ok' });
    const metrics = await fetch(`http://127.0.0.1:${INTEGRATION_PORTS.alerting}/metrics`);
    expect(await metrics.text()).toContain('agentmon_alerting_batches_total');
  });

  describe('rule input', () => {
    it('refuses a payload that breaks the schema with 400 naming each field', async () => {
      // sent without the client-side check of RpcClient, as a faulty caller would
      const err = await firstValueFrom(
        raw.send('rpc.alerting.rule.create.v1', {
          principal: operator,
          rule: {
            name: 'bad',
            condition: { type: 'threshold', measurement: 'agent_metrics', field: 'cpu_usage', op: '>>', value: 90 },
            channels: ['not-a-uuid'],
          },
        }),
      ).then(
        () => null,
        (e: unknown) => e as { statusCode: number; message: string; details: { path: string }[] },
      );
      expect(err).not.toBeNull();
      expect(err!.statusCode).toBe(400);
      const paths = err!.details.map((d) => d.path);
      expect(paths).toEqual(expect.arrayContaining(['rule.condition.op', 'rule.channels[0]']));
    });

    it('refuses what only the service can judge (a 0s window) with 400 naming the field', async () => {
      const err = await rpc
        .request('rpc.alerting.rule.create.v1', {
          principal: operator,
          rule: cpuRule('zero window', {
            condition: { type: 'threshold', measurement: 'agent_metrics', field: 'cpu_usage', window: '0s', op: '>', value: 1 },
          }),
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).statusCode).toBe(400);
      expect((err as AppError).details).toEqual([{ path: 'rule.condition.window', reason: 'must be at least 1s' }]);
    });
  });

  describe('rules CRUD', () => {
    it('creates, reads, lists, replaces and deletes a rule, auditing each change', async () => {
      const created = await rpc.request('rpc.alerting.rule.create.v1', { principal: operator, rule: cpuRule(`crud ${run}`) });
      expect(created).toMatchObject({ name: `crud ${run}`, severity: 'critical', enabled: true, for: '0s', scope: {} });
      expect(created.condition).toMatchObject({ type: 'threshold', aggregation: 'last', window: '1m' });

      await expect(rpc.request('rpc.alerting.rule.get.v1', { id: created.id })).resolves.toEqual(created);
      const dup = await rpc.request('rpc.alerting.rule.create.v1', { principal: operator, rule: cpuRule(`CRUD ${run}`) }).catch((e: unknown) => e);
      expect((dup as AppError).statusCode).toBe(409);

      const updated = await rpc.request('rpc.alerting.rule.update.v1', {
        principal: operator,
        id: created.id,
        rule: cpuRule(`crud ${run}`, { severity: 'warning', for: '5m' }),
      });
      expect(updated).toMatchObject({ id: created.id, severity: 'warning', for: '5m', created_at: created.created_at });

      const page1 = await rpc.request('rpc.alerting.rule.list.v1', { limit: 1 });
      expect(page1.items).toHaveLength(1);
      const all = await rpc.request('rpc.alerting.rule.list.v1', { limit: 1000 });
      expect(all.items.map((r) => r.id)).toContain(created.id);

      await expect(rpc.request('rpc.alerting.rule.delete.v1', { principal: operator, id: created.id })).resolves.toEqual({ ok: true });
      const gone = await rpc.request('rpc.alerting.rule.get.v1', { id: created.id }).catch((e: unknown) => e);
      expect((gone as AppError).statusCode).toBe(404);

      const audit = await eventually('three audit events', () => auditEvents(created.id), (a) => a.length >= 3);
      expect(audit.map((a) => a.action)).toEqual(['alert_rule.create', 'alert_rule.update', 'alert_rule.delete']);
      for (const a of audit) {
        expect(a).toMatchObject({ actor: { kind: 'user', id: 'u1', username: 'olga' }, resource_type: 'alert_rule', service: 'alerting', outcome: 'success' });
      }
      expect(audit[0]!.after).toMatchObject({ id: created.id, severity: 'critical' });
      expect(audit[1]!.before).toMatchObject({ severity: 'critical' });
      expect(audit[1]!.after).toMatchObject({ severity: 'warning' });
      expect(audit[2]!.before).toMatchObject({ id: created.id });
    });
  });

  describe('what a batch costs', () => {
    /** A counter of /metrics (summed over its labels when `label` is not given). */
    async function counter(name: string, label?: string): Promise<number> {
      const text = await (await fetch(`http://127.0.0.1:${INTEGRATION_PORTS.alerting}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
        if (label && !line.includes(label)) continue;
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return sum;
    }
    /** Publishes a batch and waits until the evaluator has handled it; answers how many points it decoded. */
    async function decodedFor(points: Parameters<typeof publishPoints>[0]): Promise<number> {
      const [batches, decoded] = [await counter('agentmon_alerting_batches_total', 'outcome="ok"'), await counter('agentmon_alerting_points_decoded_total')];
      await publishPoints(points);
      await eventually('batch evaluated', () => counter('agentmon_alerting_batches_total', 'outcome="ok"'), (n) => n === batches + 1);
      return (await counter('agentmon_alerting_points_decoded_total')) - decoded;
    }
    const seenHash = (agent: string) => redis.hgetall(`${REDIS_PREFIX}seen:${agent}`);

    it('decodes nothing and records nothing while no rule is enabled', async () => {
      expect((await rpc.request('rpc.alerting.rule.list.v1', { limit: 1000 })).items.filter((r) => r.enabled)).toEqual([]);
      const agent = agentId('unwatched');
      expect(await decodedFor([{ agent_id: agent, fields: { cpu_usage: 99 } }, { agent_id: agent, measurement: 'disk_metrics', fields: { used: 1 } }])).toBe(0);
      expect(await seenHash(agent)).toEqual({});
    });

    it('decodes only the measurements enabled rules read; records only the last-seen times absence conditions read', async () => {
      const agent = agentId('partial');
      const threshold = await rpc.request('rpc.alerting.rule.create.v1', { principal: operator, rule: cpuRule(`decode ${run}`, { scope: { agent_ids: [agent] } }) });
      const t = Date.now();
      const batch: Parameters<typeof publishPoints>[0] = [
        { agent_id: agent, fields: { cpu_usage: 10 }, time: t - 1 },
        { agent_id: agent, fields: { cpu_usage: 20 }, time: t },
        { agent_id: agent, measurement: 'disk_metrics', fields: { used: 1 }, time: t },
        { agent_id: agent, measurement: 'net_metrics', fields: { rx: 1 }, time: t },
        { agent_id: agentId('other'), measurement: 'net_metrics', fields: { rx: 2 }, time: t },
      ];
      // the threshold rule reads agent_metrics only; no absence condition: no last-seen time is kept
      expect(await decodedFor(batch)).toBe(2);
      expect(await seenHash(agent)).toEqual({});

      // an absence condition on disk_metrics adds its lines, and its last-seen time alone
      const absence = await rpc.request('rpc.alerting.rule.create.v1', {
        principal: operator,
        rule: { name: `disk silent ${run}`, severity: 'info', scope: { agent_ids: [agent] }, condition: { type: 'absence', measurement: 'disk_metrics', for: '1h' } },
      });
      expect(await decodedFor(batch)).toBe(3);
      expect(await seenHash(agent)).toEqual({ disk_metrics: String(t) });

      for (const rule of [threshold, absence]) await rpc.request('rpc.alerting.rule.delete.v1', { principal: operator, id: rule.id });
      expect(await decodedFor(batch)).toBe(0);
    });
  });

  describe('evaluation', () => {
    it('for 0s: a point over the threshold fires at once, once; a point back under resolves it', async () => {
      const agent = agentId('hot');
      const rule = await rpc.request('rpc.alerting.rule.create.v1', {
        principal: operator,
        rule: cpuRule(`CPU hot ${run}`, { scope: { agent_ids: [agent] } }),
      });

      await cpu(agent, 50);
      await cpu(agent, 95.5);
      const [alert] = await eventually('firing alert', () => activeFor(agent), (items) => items.some((a) => a.status === 'firing'));
      expect(alert).toMatchObject({
        rule_id: rule.id,
        rule_name: `CPU hot ${run}`,
        agent_id: agent,
        status: 'firing',
        severity: 'critical',
        value: 95.5,
        threshold: 90,
        labels: { team: 'search' },
        resolved_at: null,
        acknowledged_by: null,
      });
      expect(alert!.fired_at).toBe(alert!.started_at);
      expect(alert!.summary).toBe(`CPU hot ${run} on ${agent}: last(agent_metrics.cpu_usage) over 1m = 95.5 > 90`);

      // a message that cannot be decompressed is skipped (logged), not retried for ever with the rest of its batch
      await js.publish('evt.ingest.telemetry.lines.br.v1', Buffer.from('not a compressed message'));
      const jsm = await jetstreamManager(nc);
      await eventually(
        'unreadable message settled',
        async () => {
          const info = await jsm.consumers.info(STREAMS.TELEMETRY.name, EVALUATOR_DURABLE);
          return info.num_pending + info.num_ack_pending;
        },
        (n) => n === 0,
      );

      // more breaching points while it fires: still one alert, still one fired event
      await cpu(agent, 97);
      await eventually('value refreshed', () => activeFor(agent), (items) => items[0]?.value === 97);
      expect(await activeFor(agent)).toHaveLength(1);

      const fired = await eventually('fired event', () => alertEvents('fired', alert!.id), (e) => e.length > 0);
      expect(fired).toHaveLength(1);
      expect(fired[0]!.alert).toMatchObject({ id: alert!.id, status: 'firing', value: 95.5 });
      expect(fired[0]!.rule).toMatchObject({ id: rule.id, name: rule.name, channels: rule.channels });

      // lines that travel compressed are evaluated as well
      await cpu(agent, 40, undefined, true);
      const resolved = await eventually('resolved', () => rpc.request('rpc.alerting.alert.get.v1', { id: alert!.id }), (a) => a.status === 'resolved');
      expect(resolved.resolved_at).not.toBeNull();
      expect(resolved.summary).toContain('resolved');
      expect(resolved.summary).toContain('= 40 <= 90');
      expect(await activeFor(agent)).toHaveLength(0);

      const resolvedEvents = await eventually('resolved event', () => alertEvents('resolved', alert!.id), (e) => e.length > 0);
      expect(resolvedEvents).toHaveLength(1);
      expect(resolvedEvents[0]!.alert).toMatchObject({ id: alert!.id, status: 'resolved', value: 40 });
      expect(await alertEvents('fired', alert!.id)).toHaveLength(1);

      // it fires again on a new breach, as a new alert
      await cpu(agent, 99);
      const [again] = await eventually('fires again', () => activeFor(agent), (items) => items.length === 1);
      expect(again!.id).not.toBe(alert!.id);
    }, 30_000);

    it('for 2s: pending first, then firing by the tick without a new point; tags scope via the registry', async () => {
      const agent = agentId('slow');
      registerAgent(agent, { env: 'prod' }, [`group-${run}`]);
      const rule = await rpc.request('rpc.alerting.rule.create.v1', {
        principal: operator,
        rule: cpuRule(`CPU hot for 2s ${run}`, { for: '2s', severity: 'warning', scope: { tags: { env: 'prod' } } }),
      });
      // an agent outside the scope (registry says env=dev) never alerts
      const other = agentId('dev');
      registerAgent(other, { env: 'dev' }, []);
      await cpu(other, 99);

      await cpu(agent, 93);
      const [pending] = await eventually('pending', () => activeFor(agent), (items) => items.length === 1);
      expect(pending).toMatchObject({ rule_id: rule.id, status: 'pending', fired_at: null, value: 93 });
      expect(await alertEvents('fired', pending!.id)).toHaveLength(0);

      const firing = await eventually('firing via tick', () => rpc.request('rpc.alerting.alert.get.v1', { id: pending!.id }), (a) => a.status === 'firing', 8_000);
      expect(Date.parse(firing.fired_at!) - Date.parse(firing.started_at)).toBeGreaterThanOrEqual(2_000);
      const fired = await eventually('fired event', () => alertEvents('fired', pending!.id), (e) => e.length > 0);
      expect(fired).toHaveLength(1);

      // filters of the active list: severity and the agent's group
      const byGroup = await rpc.request('rpc.alerting.alert.active.v1', { group_id: `group-${run}` });
      expect(byGroup.items.map((a) => a.id)).toEqual([pending!.id]);
      const critical = await rpc.request('rpc.alerting.alert.active.v1', { severity: 'critical' });
      expect(critical.items.map((a) => a.id)).not.toContain(pending!.id);
      expect(await activeFor(other)).toHaveLength(0);

      // acknowledging records who did it and is audited
      const acked = await rpc.request('rpc.alerting.alert.ack.v1', { principal: operator, id: pending!.id });
      expect(acked).toMatchObject({ id: pending!.id, acknowledged_by: 'olga', status: 'firing' });
      expect(acked.acknowledged_at).not.toBeNull();
      const audit = await eventually('ack audit', () => auditEvents(pending!.id), (a) => a.length > 0);
      expect(audit[0]).toMatchObject({ action: 'alert.acknowledge', resource_type: 'alert', actor: { username: 'olga' } });

      await cpu(agent, 10);
      await eventually('resolved', () => rpc.request('rpc.alerting.alert.get.v1', { id: pending!.id }), (a) => a.status === 'resolved');
      await eventually('resolved event', () => alertEvents('resolved', pending!.id), (e) => e.length === 1);
    }, 30_000);

    it('a pending alert that clears is closed without any event', async () => {
      const agent = agentId('blip');
      await rpc.request('rpc.alerting.rule.create.v1', { principal: operator, rule: cpuRule(`CPU blip ${run}`, { for: '1h', scope: { agent_ids: [agent] } }) });
      await cpu(agent, 95);
      const [pending] = await eventually('pending', () => activeFor(agent), (items) => items.length === 1);
      expect(pending!.status).toBe('pending');
      await cpu(agent, 20);
      const closed = await eventually('closed', () => rpc.request('rpc.alerting.alert.get.v1', { id: pending!.id }), (a) => a.status === 'resolved');
      expect(closed.fired_at).toBeNull();
      // give a publisher that should not publish the time to do so
      await new Promise((r) => setTimeout(r, 700));
      expect(await alertEvents('fired', pending!.id)).toHaveLength(0);
      expect(await alertEvents('resolved', pending!.id)).toHaveLength(0);
    }, 20_000);

    it('composite conditions evaluate their children; averages use the window', async () => {
      const agent = agentId('combo');
      await rpc.request('rpc.alerting.rule.create.v1', {
        principal: operator,
        rule: cpuRule(`combo ${run}`, {
          scope: { agent_ids: [agent] },
          condition: {
            type: 'composite',
            op: 'and',
            conditions: [
              { type: 'threshold', measurement: 'agent_metrics', field: 'cpu_usage', aggregation: 'avg', window: '1m', op: '>', value: 80 },
              { type: 'threshold', measurement: 'agent_metrics', field: 'memory_usage', aggregation: 'max', window: '1m', op: '>=', value: 70 },
            ],
          },
        }),
      });
      const t = Date.now();
      // avg cpu = (70 + 100) / 2 = 85 > 80, but memory 60 < 70: no alert
      await publishPoints([
        { agent_id: agent, fields: { cpu_usage: 70, memory_usage: 50 }, time: t - 2_000 },
        { agent_id: agent, fields: { cpu_usage: 100, memory_usage: 60 }, time: t - 1_000 },
      ]);
      await new Promise((r) => setTimeout(r, 700));
      expect(await activeFor(agent)).toHaveLength(0);
      // memory reaches 75: both children hold
      await publishPoints([{ agent_id: agent, fields: { cpu_usage: 85, memory_usage: 75 }, time: t }]);
      const [alert] = await eventually('composite firing', () => activeFor(agent), (items) => items.length === 1);
      expect(alert!.status).toBe('firing');
      expect(alert!.value).toBe(85); // avg(70, 100, 85)
      expect(alert!.summary).toContain('avg(agent_metrics.cpu_usage) over 1m = 85 > 80');
      expect(alert!.summary).toContain('max(agent_metrics.memory_usage) over 1m = 75 >= 70');
    }, 20_000);

    it('absence: no data for `for` fires by the tick; data resolves it', async () => {
      const agent = agentId('quiet');
      const rule = await rpc.request('rpc.alerting.rule.create.v1', {
        principal: operator,
        rule: { name: `silent ${run}`, severity: 'info', scope: { agent_ids: [agent] }, condition: { type: 'absence', for: '1s' } },
      });
      const [alert] = await eventually('absence firing', () => activeFor(agent), (items) => items.some((a) => a.status === 'firing'), 8_000);
      expect(alert).toMatchObject({ rule_id: rule.id, value: null, threshold: null, summary: `silent ${run} on ${agent}: no data for 1s` });
      await eventually('fired event', () => alertEvents('fired', alert!.id), (e) => e.length === 1);

      await cpu(agent, 1);
      await eventually('resolved', () => rpc.request('rpc.alerting.alert.get.v1', { id: alert!.id }), (a) => a.status === 'resolved');
      await eventually('resolved event', () => alertEvents('resolved', alert!.id), (e) => e.length === 1);
    }, 20_000);

    it('an agent the registry reports offline makes a measurement-less absence hold at once', async () => {
      const agent = agentId('gone');
      await rpc.request('rpc.alerting.rule.create.v1', {
        principal: operator,
        rule: { name: `offline ${run}`, scope: { agent_ids: [agent] }, condition: { type: 'absence', for: '1h' } },
      });
      await cpu(agent, 1);
      await new Promise((r) => setTimeout(r, 500));
      expect(await activeFor(agent)).toHaveLength(0);
      await bus.publish(
        'evt.registry.agent.status-changed.v1',
        { agent_id: agent, from: 'online', to: 'offline', at: new Date().toISOString() },
        { msgId: randomUUID() },
      );
      const [alert] = await eventually('offline alert', () => activeFor(agent), (items) => items.length === 1);
      expect(alert!.status).toBe('firing');
    }, 20_000);

    it('takes a fleet of status changes in batches: each agent ends as its last change says', async () => {
      // 300 agents go offline, then the first 100 of them come back, published back to back so that
      // the consumer takes them in batches, an agent's two changes often in the same one
      const agents = Array.from({ length: 300 }, (_, k) => agentId(`fleet-${k}`));
      const at = new Date().toISOString();
      await Promise.all(agents.map((agent) => bus.publish('evt.registry.agent.status-changed.v1', { agent_id: agent, from: 'online', to: 'offline', at }, { msgId: randomUUID() })));
      for (const agent of agents.slice(0, 100)) {
        await bus.publish('evt.registry.agent.status-changed.v1', { agent_id: agent, from: 'offline', to: 'online', at: new Date().toISOString() }, { msgId: randomUUID() });
      }
      const store = app.get(EvaluationStore);
      const marks = () => Promise.all(agents.map((agent) => store.isOffline(agent)));
      const final = await eventually('every change applied', marks, (offline) => offline.every((o, k) => o === k >= 100));
      expect(final.filter(Boolean)).toHaveLength(200);
    }, 20_000);

    it('deleting a rule resolves its open alerts', async () => {
      const agent = agentId('del');
      const rule = await rpc.request('rpc.alerting.rule.create.v1', { principal: operator, rule: cpuRule(`to delete ${run}`, { scope: { agent_ids: [agent] } }) });
      await cpu(agent, 99);
      const [alert] = await eventually('firing', () => activeFor(agent), (items) => items.length === 1);
      await rpc.request('rpc.alerting.rule.delete.v1', { principal: operator, id: rule.id });
      const after = await rpc.request('rpc.alerting.alert.get.v1', { id: alert!.id });
      expect(after.status).toBe('resolved');
      expect(after.summary).toContain('rule deleted');
      await eventually('resolved event', () => alertEvents('resolved', alert!.id), (e) => e.length === 1);
    }, 20_000);
  });

  describe('replica safety and the outbox', () => {
    let raceAlertId = '';

    it('concurrent evaluations of one (rule, agent) pair open one alert and fire it once', async () => {
      const agent = agentId('race');
      const rule = await rpc.request('rpc.alerting.rule.create.v1', { principal: operator, rule: cpuRule(`race ${run}`, { scope: { agent_ids: [agent] } }) });
      const loaded = (await app.get(RuleCache).enabledRules()).find((r) => r.id === rule.id)!;
      const state = app.get(AlertStateService);
      const result = { matches: true, value: 99, threshold: 90, detail: 'last(agent_metrics.cpu_usage) over 1m = 99 > 90' };
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => state.apply(loaded, agent, result, Date.now())));
      expect(outcomes.filter((o) => o.transition.kind === 'open')).toHaveLength(1);
      expect(outcomes.filter((o) => o.transition.kind === 'refresh')).toHaveLength(7);
      const active = await activeFor(agent);
      expect(active).toHaveLength(1);
      raceAlertId = active[0]!.id;
      const fired = await eventually('fired event', () => alertEvents('fired', raceAlertId), (e) => e.length > 0);
      expect(fired).toHaveLength(1);
    }, 20_000);

    it('the tick re-publishes an event whose publish was not recorded; JetStream stores it once', async () => {
      const ds = app.get<DataSource>(getDataSourceToken());
      // as if the process had stopped between the state change and recording the publish
      await ds.query(`UPDATE alert_instances SET fired_published_at = NULL, updated_at = now() - interval '10 seconds' WHERE id = $1`, [raceAlertId]);
      await eventually(
        're-published',
        async () => (await ds.query(`SELECT fired_published_at FROM alert_instances WHERE id = $1`, [raceAlertId]))[0] as { fired_published_at: Date | null },
        (row) => row.fired_published_at !== null,
      );
      expect(await alertEvents('fired', raceAlertId)).toHaveLength(1);
    }, 20_000);
  });

  describe('queries', () => {
    it('lists alert history newest first with keyset pages and filters', async () => {
      const all: Alert[] = [];
      let cursor: string | undefined;
      do {
        const page = await rpc.request('rpc.alerting.alert.list.v1', { limit: 2, ...(cursor ? { cursor } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(2);
        all.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      expect(all.length).toBeGreaterThanOrEqual(6);
      expect(new Set(all.map((a) => a.id)).size).toBe(all.length);
      const starts = all.map((a) => Date.parse(a.started_at));
      expect([...starts].sort((a, b) => b - a)).toEqual(starts);

      const resolved = await rpc.request('rpc.alerting.alert.list.v1', { status: 'resolved', limit: 1000 });
      expect(resolved.items.length).toBeGreaterThan(0);
      expect(resolved.items.every((a) => a.status === 'resolved')).toBe(true);
      const future = await rpc.request('rpc.alerting.alert.list.v1', { from: Date.now() + 60_000, limit: 10 });
      expect(future.items).toEqual([]);
    });

    it('orders active alerts by severity, then newest first', async () => {
      const active = (await rpc.request('rpc.alerting.alert.active.v1', {})).items;
      expect(active.every((a) => a.status === 'pending' || a.status === 'firing')).toBe(true);
      const rank = { critical: 0, warning: 1, info: 2 } as const;
      for (let i = 1; i < active.length; i++) {
        const [a, b] = [active[i - 1]!, active[i]!];
        expect(rank[a.severity] < rank[b.severity] || (a.severity === b.severity && a.started_at >= b.started_at)).toBe(true);
      }
    });

    it('answers 404 for unknown alerts and rules, 409 when acknowledging a resolved alert', async () => {
      for (const subject of ['rpc.alerting.alert.get.v1', 'rpc.alerting.rule.get.v1'] as const) {
        for (const id of [randomUUID(), 'not-a-uuid']) {
          const err = await rpc.request(subject, { id }).catch((e: unknown) => e);
          expect((err as AppError).statusCode).toBe(404);
        }
      }
      const [resolved] = (await rpc.request('rpc.alerting.alert.list.v1', { status: 'resolved', limit: 1 })).items;
      const err = await rpc.request('rpc.alerting.alert.ack.v1', { principal: operator, id: resolved!.id }).catch((e: unknown) => e);
      expect((err as AppError).statusCode).toBe(409);
    });
  });
});
