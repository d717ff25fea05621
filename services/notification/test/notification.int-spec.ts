import 'reflect-metadata';
import { jest } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { ClientNats } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { Client } from 'pg';
import { pino } from 'pino';
import { AppError, type AlertEvent, type AuditEvent, type Channel, type Principal, type RpcRequest } from '@agentmon/contracts';
import { EventBus, RpcClient, decodeJson } from '@agentmon/messaging';
import { bootstrapService } from '@agentmon/http-kit';
import { INTEGRATION_PORTS, TEST_INFRA } from '../../../test/support/test-env.js';
import { dropDatabase } from '../../../test/support/database.js';
import { resetStreams } from '../../../test/support/nats.js';
import { AppModule } from '../src/app.module.js';
import { NotificationConfigSchema } from '../src/config.js';
import { verifySignature } from '../src/delivery/signature.js';

// deliveries go through JetStream and retries with backoff: allow more than Jest's default 5 s
jest.setTimeout(30_000);

const DB_URL = TEST_INFRA.postgresUrl('notification_int');
const PORT = INTEGRATION_PORTS.notification;
const MAX_ATTEMPTS = 3;
const WEBHOOK_SECRET = 'whsec-integration-7f3a9c';
const HEADER_TOKEN = 'Bearer header-token-5d1e';
const SLACK_PATH = '/slack/services/T000/B000/slack-path-secret-91b2';
const TEAMS_PATH = '/teams/webhookb2/teams-path-secret-4c7d';

const principal: Principal = {
  kind: 'user',
  id: 'user-1',
  user_id: 'user-1',
  username: 'alice',
  role: 'operator',
  permissions: ['read', 'write'],
  ip: '10.0.0.9',
};

// ---------- a real webhook receiver (node:http) ----------
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  json: any;
}
const received: Received[] = [];
/** per path: how many of the next requests fail with 500 */
const failuresLeft = new Map<string, number>();
let receiver: Server;
let receiverUrl = '';

function startReceiver(): Promise<void> {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const path = req.url ?? '/';
      let json: unknown = null;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        /* not JSON */
      }
      received.push({ path, headers: req.headers, raw, json });
      if (path.startsWith('/always-fails')) return void res.writeHead(503).end('down for maintenance');
      if (path.startsWith('/redirect')) return void res.writeHead(302, { Location: 'http://127.0.0.2:9/elsewhere' }).end();
      const left = failuresLeft.get(path) ?? 0;
      if (left > 0) {
        failuresLeft.set(path, left - 1);
        return void res.writeHead(500, { 'Content-Type': 'text/plain' }).end('temporary failure');
      }
      if (path.startsWith('/teams')) return void res.writeHead(202).end('1');
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  return new Promise((resolve) =>
    receiver.listen(0, '127.0.0.1', () => {
      receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}
const hits = (path: string) => received.filter((r) => r.path === path);

// ---------- a real, minimal SMTP server (node:net) ----------
interface Mail {
  from: string;
  to: string[];
  data: string;
}
const mails: Mail[] = [];
let smtp: TcpServer;
let smtpPort = 0;
function startSmtp(): Promise<void> {
  smtp = createTcpServer((sock) => {
    sock.setEncoding('utf8');
    let buffer = '';
    let inData = false;
    let current: Mail = { from: '', to: [], data: '' };
    sock.write('220 localhost test ESMTP\r\n');
    sock.on('data', (chunk: string) => {
      buffer += chunk;
      let i: number;
      while ((i = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            mails.push(current);
            current = { from: '', to: [], data: '' };
            sock.write('250 2.0.0 Ok: queued\r\n');
          } else current.data += `${line.startsWith('..') ? line.slice(1) : line}\n`;
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') sock.write('250-localhost\r\n250 8BITMIME\r\n');
        else if (verb === 'MAIL') {
          current.from = line;
          sock.write('250 2.1.0 Ok\r\n');
        } else if (verb === 'RCPT') {
          current.to.push(line);
          sock.write('250 2.1.5 Ok\r\n');
        } else if (verb === 'DATA') {
          inData = true;
          sock.write('354 End data with <CR><LF>.<CR><LF>\r\n');
        } else if (verb === 'QUIT') sock.end('221 2.0.0 Bye\r\n');
        else if (verb === 'RSET' || verb === 'NOOP') sock.write('250 2.0.0 Ok\r\n');
        else sock.write('502 5.5.2 Error: command not recognized\r\n');
      }
    });
    sock.on('error', () => undefined);
  });
  return new Promise((resolve) =>
    smtp.listen(0, '127.0.0.1', () => {
      smtpPort = (smtp.address() as AddressInfo).port;
      resolve();
    }),
  );
}

// ---------- the service, in process ----------
const logLines: string[] = [];
const logger = pino(
  { level: 'debug', base: { service: 'notification' } },
  new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  }),
);
let app: INestApplication;
let rpc: RpcClient;
let raw: ClientNats;
let bus: EventBus;
let pg: Client;
const audits: AuditEvent[] = [];

async function waitFor<T>(what: string, fn: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  do {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

function alertEvent(channels: string[], over: Partial<AlertEvent['alert']> = {}): AlertEvent {
  const id = randomUUID();
  return {
    alert: {
      id,
      rule_id: 'rule-cpu',
      rule_name: 'CPU hot',
      agent_id: 'agent-7',
      status: 'firing',
      severity: 'critical',
      value: 97.5,
      threshold: 90,
      summary: 'cpu_usage above 90',
      labels: { team: 'search' },
      started_at: '2026-11-27T12:00:00.000Z',
      fired_at: '2026-11-27T12:01:00.000Z',
      resolved_at: null,
      acknowledged_by: null,
      acknowledged_at: null,
      ...over,
    },
    rule: {
      id: 'rule-cpu',
      name: 'CPU hot',
      channels,
      condition: { type: 'threshold', measurement: 'agent_metrics', field: 'cpu_usage', aggregation: 'avg', window: '1m', op: '>', value: 90 },
    },
  };
}

async function createChannel(channel: RpcRequest<'rpc.notification.channel.create.v1'>['channel']): Promise<Channel> {
  return rpc.request('rpc.notification.channel.create.v1', { principal, channel });
}
const attemptsOf = async (alertId: string) => (await rpc.request('rpc.notification.alert.attempts.v1', { alert_id: alertId })).items;

/** Sends a request past RpcClient's own validation, so that the service's answer is what is tested. */
async function rawRequest(subject: string, payload: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: any }> {
  try {
    return { ok: true, value: await firstValueFrom(raw.send(subject, payload)) };
  } catch (error) {
    return { ok: false, error };
  }
}

beforeAll(async () => {
  await dropDatabase(DB_URL);
  await resetStreams(TEST_INFRA.natsUrl);
  await Promise.all([startReceiver(), startSmtp()]);
  const config = NotificationConfigSchema.parse({
    PORT: String(PORT),
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    NATS_URL: TEST_INFRA.natsUrl,
    DATABASE_URL: DB_URL,
    NOTIFICATION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    DASHBOARD_URL: 'http://dashboard.test:3000/',
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    SMTP_FROM: 'agentmon <alerts@agentmon.test>',
    MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    DELIVERY_TIMEOUT_MS: '3000',
  });
  app = await bootstrapService({
    service: 'notification',
    module: AppModule.forRoot(config, logger),
    logger,
    port: config.PORT,
    host: config.HTTP_HOST,
    natsUrl: config.NATS_URL,
    rpc: true,
  });
  rpc = new RpcClient(TEST_INFRA.natsUrl, 15_000, 'notification-int-test');
  await rpc.connect();
  raw = new ClientNats({ servers: TEST_INFRA.natsUrl } as never);
  await raw.connect();
  bus = await EventBus.connect(TEST_INFRA.natsUrl, 'notification-int-test-events', pino({ level: 'silent' }));
  bus.nc.subscribe('evt.audit.recorded.v1', { callback: (_err, msg) => void audits.push(decodeJson(msg.data) as AuditEvent) });
  pg = new Client({ connectionString: DB_URL });
  await pg.connect();
}, 60_000);

afterAll(async () => {
  await pg?.end();
  await bus?.close();
  await raw?.close();
  await rpc?.close();
  await app?.close();
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
  await new Promise((r) => smtp?.close(r));
}, 30_000);

describe('notification service', () => {
  let webhook: Channel;

  it('answers its health check with postgres and nats', async () => {
    const health = await rpc.request('rpc.notification.health.v1', {});
    expect(health).toMatchObject({ service: 'notification', status: 'ok', checks: { postgres: { status: 'ok' }, nats: { status: 'ok' } } });
    const res = await fetch(`http://127.0.0.1:${PORT}/health/ready`);
    expect(res.status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${PORT}/metrics`)).text()).toContain('agentmon_notification_attempts_total');
  });

  it('creates a webhook channel whose secret is encrypted at rest and never answered', async () => {
    webhook = await createChannel({
      name: 'Ops webhook',
      type: 'webhook',
      config: { url: `${receiverUrl}/hook`, secret: WEBHOOK_SECRET, headers: { Authorization: HEADER_TOKEN, 'X-Team': 'search' } },
    });
    expect(webhook).toMatchObject({
      name: 'Ops webhook',
      type: 'webhook',
      config: { url: `${receiverUrl}/hook`, has_secret: true, header_names: ['Authorization', 'X-Team'] },
    });
    expect(JSON.stringify(webhook)).not.toContain(WEBHOOK_SECRET);
    expect(JSON.stringify(webhook)).not.toContain(HEADER_TOKEN);
    expect(await rpc.request('rpc.notification.channel.get.v1', { id: webhook.id })).toEqual(webhook);

    const { rows } = await pg.query('SELECT config::text AS config, secrets FROM notification_channels WHERE id = $1', [webhook.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].secrets).toMatch(/^v1\./);
    for (const column of [rows[0].config, rows[0].secrets]) {
      expect(column).not.toContain(WEBHOOK_SECRET);
      expect(column).not.toContain(HEADER_TOKEN);
    }
    expect(rows[0].secrets).not.toContain(Buffer.from(WEBHOOK_SECRET).toString('base64').slice(0, 12));

    const audit = await waitFor('create audit', () => audits.find((a) => a.action === 'notification_channel.create' && a.resource_id === webhook.id), Boolean);
    expect(audit).toMatchObject({
      actor: { kind: 'user', id: 'user-1', username: 'alice' },
      resource_type: 'notification_channel',
      outcome: 'success',
      service: 'notification',
      ip: '10.0.0.9',
    });
    expect(JSON.stringify(audit)).not.toContain(WEBHOOK_SECRET);
    expect(JSON.stringify(audit)).not.toContain(HEADER_TOKEN);
  });

  it('refuses a duplicate name (any case) with 409', async () => {
    await expect(createChannel({ name: 'ops WEBHOOK', type: 'webhook', config: { url: `${receiverUrl}/x` } })).rejects.toMatchObject({
      statusCode: 409,
      details: [{ path: 'channel.name', reason: expect.any(String) }],
    });
  });

  it('refuses bad channel input with 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ name: 'bad url', type: 'webhook', config: { url: 'ftp://example.com/x' } }, 'channel.config.url'],
      [{ name: 'bad url', type: 'slack', config: { webhook_url: 'javascript:alert(1)' } }, 'channel.config.webhook_url'],
      [{ name: 'bad mail', type: 'email', config: { to: ['not-an-address'] } }, 'channel.config.to[0]'],
      [{ name: 'bad header', type: 'webhook', config: { url: 'https://example.com', headers: { 'X-Agentmon-Signature': 'x' } } }, 'channel.config.headers.X-Agentmon-Signature'],
      [{ name: '', type: 'teams', config: { webhook_url: 'https://example.com' } }, 'channel.name'],
      [{ name: 'no type', config: {} }, 'channel.type'],
    ];
    for (const [channel, path] of cases) {
      const res = await rawRequest('rpc.notification.channel.create.v1', { principal, channel });
      expect(res.ok).toBe(false);
      const body = (res as { error: any }).error;
      expect(body.statusCode).toBe(400);
      expect(body.details.map((d: { path: string }) => d.path)).toContain(path);
      expect(body.message).toContain(path.split('.')[0]);
    }
  });

  it('delivers a fired alert from JetStream with a valid signature over the raw body', async () => {
    const event = alertEvent([webhook.id]);
    await bus.publish('evt.alerting.alert.fired.v1', event, { msgId: `${event.alert.id}:fired` });

    const [hit] = await waitFor('webhook POST', () => hits('/hook').filter((h) => h.json?.alert?.id === event.alert.id), (h) => h.length === 1);
    expect(hit!.headers['content-type']).toMatch(/^application\/json/);
    expect(hit!.headers['authorization']).toBe(HEADER_TOKEN);
    expect(hit!.headers['x-team']).toBe('search');
    expect(hit!.headers['x-agentmon-event']).toBe('firing');
    const signature = hit!.headers['x-agentmon-signature'] as string;
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(hit!.raw, WEBHOOK_SECRET, signature)).toBe(true);
    expect(verifySignature(hit!.raw, 'wrong secret', signature)).toBe(false);
    expect(hit!.json).toMatchObject({
      event: 'firing',
      title: '[FIRING] CPU hot on agent-7',
      condition: 'avg(agent_metrics.cpu_usage) over 1m is 97.5 (threshold > 90)',
      dashboard_url: `http://dashboard.test:3000/alerts/${event.alert.id}`,
      alert: { id: event.alert.id, agent_id: 'agent-7', value: 97.5, threshold: 90 },
      rule: { id: 'rule-cpu', name: 'CPU hot' },
    });

    const attempts = await waitFor('attempt recorded', () => attemptsOf(event.alert.id), (a) => a.length === 1);
    expect(attempts[0]).toMatchObject({ channel_id: webhook.id, event: 'firing', attempt: 1, status: 'delivered', response_code: 200, error: null });
  });

  it('retries a failing channel with backoff without re-sending to channels that succeeded', async () => {
    const flaky = await createChannel({ name: 'Flaky webhook', type: 'webhook', config: { url: `${receiverUrl}/flaky` } });
    const steady = await createChannel({ name: 'Steady webhook', type: 'webhook', config: { url: `${receiverUrl}/steady` } });
    failuresLeft.set('/flaky', 2);
    const event = alertEvent([flaky.id, steady.id]);
    await bus.publish('evt.alerting.alert.fired.v1', event);

    const attempts = await waitFor(
      'three attempts on the flaky channel',
      () => attemptsOf(event.alert.id),
      (a) => a.some((x) => x.channel_id === flaky.id && x.status === 'delivered'),
      30_000,
    );
    const onFlaky = attempts.filter((a) => a.channel_id === flaky.id);
    expect(onFlaky.map((a) => [a.attempt, a.status, a.response_code])).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 500],
      [3, 'delivered', 200],
    ]);
    expect(onFlaky[0]!.error).toContain('HTTP 500');
    // backoff: the retries are spread out, not immediate
    const gap = Date.parse(onFlaky[2]!.created_at) - Date.parse(onFlaky[0]!.created_at);
    expect(gap).toBeGreaterThanOrEqual(2_000);
    const onSteady = attempts.filter((a) => a.channel_id === steady.id);
    expect(onSteady).toHaveLength(1);
    expect(onSteady[0]).toMatchObject({ status: 'delivered', attempt: 1 });
    expect(hits('/steady').filter((h) => h.json.alert.id === event.alert.id)).toHaveLength(1);
    expect(hits('/flaky').filter((h) => h.json.alert.id === event.alert.id)).toHaveLength(3);
  }, 40_000);

  it('gives up after MAX_ATTEMPTS and records the failure', async () => {
    const broken = await createChannel({ name: 'Broken webhook', type: 'webhook', config: { url: `${receiverUrl}/always-fails` } });
    const event = alertEvent([broken.id]);
    await bus.publish('evt.alerting.alert.fired.v1', event);
    const attempts = await waitFor('last attempt', () => attemptsOf(event.alert.id), (a) => a.some((x) => x.final), 30_000);
    expect(attempts.map((a) => [a.attempt, a.status, a.response_code, a.final])).toEqual([
      [1, 'failed', 503, false],
      [2, 'failed', 503, false],
      [3, 'failed', 503, true],
    ]);
    expect(attempts[2]!.error).toBe('HTTP 503: down for maintenance');
    // acknowledged: no further attempt comes
    await new Promise((r) => setTimeout(r, 5_000));
    expect(await attemptsOf(event.alert.id)).toHaveLength(MAX_ATTEMPTS);
  }, 45_000);

  it('notifies resolved alerts too', async () => {
    const event = alertEvent([webhook.id], { status: 'resolved', value: 41, resolved_at: '2026-11-27T12:20:00.000Z' });
    await bus.publish('evt.alerting.alert.resolved.v1', event);
    const [hit] = await waitFor('resolved POST', () => hits('/hook').filter((h) => h.json?.alert?.id === event.alert.id), (h) => h.length === 1);
    expect(hit!.headers['x-agentmon-event']).toBe('resolved');
    expect(verifySignature(hit!.raw, WEBHOOK_SECRET, hit!.headers['x-agentmon-signature'] as string)).toBe(true);
    expect(hit!.json).toMatchObject({ event: 'resolved', title: '[RESOLVED] CPU hot on agent-7', alert: { status: 'resolved', resolved_at: '2026-11-27T12:20:00.000Z' } });
    const attempts = await waitFor('resolved attempt', () => attemptsOf(event.alert.id), (a) => a.length === 1);
    expect(attempts[0]).toMatchObject({ event: 'resolved', status: 'delivered' });
  });

  it('delivers to Slack, Teams and email channels, masking their secrets in answers', async () => {
    const slack = await createChannel({ name: 'Slack #ops', type: 'slack', config: { webhook_url: `${receiverUrl}${SLACK_PATH}` } });
    const teams = await createChannel({ name: 'Teams ops', type: 'teams', config: { webhook_url: `${receiverUrl}${TEAMS_PATH}` } });
    const email = await createChannel({ name: 'Email ops', type: 'email', config: { to: ['oncall@example.com', 'lead@example.com'] } });
    const emailOwnSmtp = await createChannel({
      name: 'Email own smtp',
      type: 'email',
      config: { to: ['team@example.com'], smtp_url: `smtp://127.0.0.1:${smtpPort}` },
    });
    expect(slack.config).toEqual({ has_webhook_url: true, webhook_url_masked: `${receiverUrl}/***` });
    expect(teams.config).toEqual({ has_webhook_url: true, webhook_url_masked: `${receiverUrl}/***` });
    expect(email.config).toEqual({ to: ['oncall@example.com', 'lead@example.com'], has_smtp_url: false });
    expect(emailOwnSmtp.config).toEqual({ to: ['team@example.com'], has_smtp_url: true, smtp_url_masked: `smtp://127.0.0.1:${smtpPort}` });
    expect(JSON.stringify([slack, teams])).not.toMatch(/slack-path-secret|teams-path-secret/);

    const event = alertEvent([slack.id, teams.id, email.id, emailOwnSmtp.id]);
    await bus.publish('evt.alerting.alert.fired.v1', event);
    const attempts = await waitFor('four deliveries', () => attemptsOf(event.alert.id), (a) => a.filter((x) => x.status === 'delivered').length === 4);
    expect(attempts).toHaveLength(4);
    expect(attempts.find((a) => a.channel_id === teams.id)?.response_code).toBe(202);
    expect(attempts.find((a) => a.channel_id === email.id)?.response_code).toBe(250);

    const [slackHit] = hits(SLACK_PATH).filter((h) => JSON.stringify(h.json).includes(event.alert.id));
    expect(slackHit!.json.text).toContain('[FIRING] CPU hot on agent-7');
    expect(slackHit!.json.blocks[0]).toMatchObject({ type: 'header' });
    expect(JSON.stringify(slackHit!.json.blocks)).toContain(`http://dashboard.test:3000/alerts/${event.alert.id}`);
    const [teamsHit] = hits(TEAMS_PATH).filter((h) => JSON.stringify(h.json).includes(event.alert.id));
    expect(teamsHit!.json.attachments[0].content.type).toBe('AdaptiveCard');

    const toOncall = mails.filter((m) => m.data.includes(event.alert.id) && m.to.some((t) => t.includes('oncall@example.com')));
    expect(toOncall).toHaveLength(1);
    expect(toOncall[0]!.to.join()).toContain('lead@example.com');
    expect(toOncall[0]!.from).toContain('alerts@agentmon.test');
    expect(toOncall[0]!.data).toMatch(/Subject: \[FIRING\] CPU hot on agent-7/);
    expect(mails.filter((m) => m.data.includes(event.alert.id) && m.to.some((t) => t.includes('team@example.com')))).toHaveLength(1);
  }, 30_000);

  it('sends a test notification and records it', async () => {
    const before = received.length;
    const result = await rpc.request('rpc.notification.channel.test.v1', { principal, id: webhook.id });
    expect(result).toEqual({ delivered: true, response_code: 200, error: null });
    const hit = received.slice(before).find((h) => h.path === '/hook');
    expect(hit?.json).toMatchObject({ event: 'test', title: expect.stringMatching(/^\[TEST\]/) });
    expect(verifySignature(hit!.raw, WEBHOOK_SECRET, hit!.headers['x-agentmon-signature'] as string)).toBe(true);
    const attempts = await attemptsOf(hit!.json.alert.id);
    expect(attempts).toMatchObject([{ event: 'test', status: 'delivered', channel_id: webhook.id }]);

    const refused = await createChannel({ name: 'Nobody home', type: 'webhook', config: { url: 'http://127.0.0.1:9/none' } });
    expect(await rpc.request('rpc.notification.channel.test.v1', { principal, id: refused.id })).toEqual({
      delivered: false,
      response_code: null,
      error: 'connection refused (ECONNREFUSED)',
    });
  });

  it('never follows a redirect', async () => {
    const redirecting = await createChannel({ name: 'Redirecting', type: 'webhook', config: { url: `${receiverUrl}/redirect`, secret: WEBHOOK_SECRET } });
    const result = await rpc.request('rpc.notification.channel.test.v1', { principal, id: redirecting.id });
    expect(result).toEqual({ delivered: false, response_code: 302, error: 'HTTP 302 redirect to another host (127.0.0.2:9) not followed' });
  });

  it('answers 404 for unknown channels', async () => {
    await expect(rpc.request('rpc.notification.channel.get.v1', { id: randomUUID() })).rejects.toMatchObject({ statusCode: 404 });
    await expect(rpc.request('rpc.notification.channel.get.v1', { id: 'not-a-uuid' })).rejects.toBeInstanceOf(AppError);
    await expect(rpc.request('rpc.notification.channel.test.v1', { principal, id: randomUUID() })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('lists channels page by page', async () => {
    const first = await rpc.request('rpc.notification.channel.list.v1', { limit: 3 });
    expect(first.items).toHaveLength(3);
    expect(first.next_cursor).toEqual(expect.any(String));
    const all: Channel[] = [...first.items];
    let cursor = first.next_cursor;
    while (cursor) {
      const page = await rpc.request('rpc.notification.channel.list.v1', { limit: 3, cursor });
      all.push(...page.items);
      cursor = page.next_cursor;
    }
    const { rows } = await pg.query('SELECT count(*)::int AS n FROM notification_channels');
    expect(all).toHaveLength(rows[0].n);
    expect(new Set(all.map((c) => c.id)).size).toBe(all.length);
    expect(JSON.stringify(all)).not.toMatch(new RegExp(`${WEBHOOK_SECRET}|slack-path-secret|teams-path-secret`));
    await expect(rpc.request('rpc.notification.channel.list.v1', { cursor: 'garbage' })).rejects.toMatchObject({ statusCode: 400 });
  });

  it('updates (replacing secrets) and deletes, with audit events free of secrets', async () => {
    const channel = await createChannel({ name: 'To change', type: 'webhook', config: { url: `${receiverUrl}/change`, secret: 'first-secret-aa11' } });
    const updated = await rpc.request('rpc.notification.channel.update.v1', {
      principal,
      id: channel.id,
      channel: { name: 'Changed', type: 'webhook', config: { url: `${receiverUrl}/changed`, secret: 'second-secret-bb22' } },
    });
    expect(updated).toMatchObject({ id: channel.id, name: 'Changed', config: { url: `${receiverUrl}/changed`, has_secret: true } });
    expect(Date.parse(updated.updated_at)).toBeGreaterThanOrEqual(Date.parse(channel.updated_at));

    const before = received.length;
    await rpc.request('rpc.notification.channel.test.v1', { principal, id: channel.id });
    const hit = received.slice(before).find((h) => h.path === '/changed')!;
    expect(verifySignature(hit.raw, 'second-secret-bb22', hit.headers['x-agentmon-signature'] as string)).toBe(true);

    await expect(
      rpc.request('rpc.notification.channel.update.v1', { principal, id: channel.id, channel: { name: 'ops webhook', type: 'slack', config: { webhook_url: 'https://hooks.example.com/x' } } }),
    ).rejects.toMatchObject({ statusCode: 409 });

    await rpc.request('rpc.notification.channel.delete.v1', { principal, id: channel.id });
    await expect(rpc.request('rpc.notification.channel.get.v1', { id: channel.id })).rejects.toMatchObject({ statusCode: 404 });
    await expect(rpc.request('rpc.notification.channel.delete.v1', { principal, id: channel.id })).rejects.toMatchObject({ statusCode: 404 });

    const update = await waitFor('update audit', () => audits.find((a) => a.action === 'notification_channel.update' && a.resource_id === channel.id), Boolean);
    expect(update).toMatchObject({ before: { name: 'To change' }, after: { name: 'Changed' } });
    const del = await waitFor('delete audit', () => audits.find((a) => a.action === 'notification_channel.delete' && a.resource_id === channel.id), Boolean);
    expect(del).toMatchObject({ before: { id: channel.id, name: 'Changed' } });
    expect(JSON.stringify(audits)).not.toMatch(/first-secret-aa11|second-secret-bb22/);
  });

  it('records a failed attempt, without sending, when a sealed config was tampered with', async () => {
    const channel = await createChannel({ name: 'Tampered', type: 'webhook', config: { url: `${receiverUrl}/tampered`, secret: 'tamper-secret' } });
    const { rows } = await pg.query('SELECT secrets FROM notification_channels WHERE id = $1', [channel.id]);
    const parts = (rows[0].secrets as string).split('.');
    const data = Buffer.from(parts[3]!, 'base64url');
    data[0] = data[0]! ^ 0x01;
    parts[3] = data.toString('base64url');
    await pg.query('UPDATE notification_channels SET secrets = $1 WHERE id = $2', [parts.join('.'), channel.id]);

    const result = await rpc.request('rpc.notification.channel.test.v1', { principal, id: channel.id });
    expect(result.delivered).toBe(false);
    expect(result.error).toMatch(/cannot be decrypted/);
    expect(hits('/tampered')).toHaveLength(0);
  });

  it('keeps secrets out of its logs', () => {
    const logs = logLines.join('');
    expect(logs).toContain('notification delivered');
    for (const secret of [WEBHOOK_SECRET, HEADER_TOKEN, 'slack-path-secret', 'teams-path-secret', 'second-secret-bb22', 'tamper-secret']) {
      expect(logs).not.toContain(secret);
    }
  });
});
