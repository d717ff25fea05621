/**
 * InfluxDB line protocol as real clients send it, unchanged: the official 2.x client
 * (@influxdata/influxdb-client, `/api/v2/write` with `Authorization: Token`), the 1.x node client
 * (`influx`, `/write` with HTTP Basic auth), and a Telegraf-style body (gzip, ns precision, thousands
 * of lines, `i` integers, escaped tags) on both APIs. Points are read back through the historical
 * query RPC and straight from InfluxDB.
 */
import { gzipSync } from 'node:zlib';
import { HttpError, InfluxDB as Influx2, Point, setLogger } from '@influxdata/influxdb-client';
import { FieldType, InfluxDB as Influx1 } from 'influx';
import { INTEGRATION_PORTS } from '../../../test/support/test-env.js';
import { IngestHarness, KEYS, eventually } from './support/ingest-harness.js';

const RUN = Date.now().toString(36);
const h = new IngestHarness('agentmon_int_clients');
const iso = (ms: number) => new Date(ms).toISOString();

// the 2.x client reports failed writes through its logger (console by default)
const clientLog: string[] = [];
setLogger({ error: (m: string) => clientLog.push(m), warn: (m: string) => clientLog.push(m) });

beforeAll(async () => {
  await h.start();
}, 60_000);
afterAll(async () => {
  await h.stop();
});

describe('the InfluxDB 2.x client (@influxdata/influxdb-client)', () => {
  const agentId = `influx2-${RUN}`;
  const client = new Influx2({ url: `http://127.0.0.1:${INTEGRATION_PORTS.ingest}`, token: KEYS.write });

  it('writes points with escaped tags and every field type, gzip-compressed, and they become queryable', async () => {
    const measurement = `influx2_${RUN}`;
    // no retries, one explicit flush; bodies over 1 kB are gzip-compressed by the client
    const write = client.getWriteApi('agentmon-org', 'agent-bucket', 'ns', { maxRetries: 0, flushInterval: 0, batchSize: 10_000, gzipThreshold: 1000 });
    write.useDefaultTags({ agent_id: agentId });
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    for (let i = 0; i < 40; i++) {
      write.writePoint(
        new Point(measurement)
          .tag('host', 'node 3, rack=7')
          .tag('path', 'C:\\agents')
          .floatField('cpu_usage', 40 + i / 4)
          .intField('tasks', i)
          .uintField('bytes', 1000 + i)
          .booleanField('healthy', i % 2 === 0)
          .stringField('note', `say "hi" \\ #${i}`)
          .timestamp(new Date(t0 + i * 1000)),
      );
    }
    await write.close();

    const rows = await eventually(() => h.rows(measurement), (r) => r.length === 40);
    expect(rows).toHaveLength(40);
    expect(rows[3]).toEqual({
      time: t0 + 3000,
      agent_id: agentId,
      host: 'node 3, rack=7',
      path: 'C:\\agents',
      cpu_usage: 40.75,
      tasks: 3,
      bytes: 1003,
      healthy: false,
      note: 'say "hi" \\ #3',
    });

    const history = await h.rpc.request('rpc.ingest.metrics.historical.v1', { agent_id: agentId, measurement, fields: ['cpu_usage', 'tasks'], from: t0, to: t0 + 4000, interval: '1s' });
    expect(history.series).toEqual([
      { field: 'cpu_usage', points: [[iso(t0), 40], [iso(t0 + 1000), 40.25], [iso(t0 + 2000), 40.5], [iso(t0 + 3000), 40.75]] },
      { field: 'tasks', points: [[iso(t0), 0], [iso(t0 + 1000), 1], [iso(t0 + 2000), 2], [iso(t0 + 3000), 3]] },
    ]);
  });

  it('writes with second precision', async () => {
    const measurement = `influx2_s_${RUN}`;
    const write = client.getWriteApi('agentmon-org', 'agent-bucket', 's', { maxRetries: 0, flushInterval: 0 });
    const t = Math.floor(Date.now() / 1000) - 30;
    write.writePoint(new Point(measurement).tag('agent_id', agentId).floatField('v', 1.5).timestamp(t));
    await write.close();
    expect(await eventually(() => h.rows(measurement), (r) => r.length === 1)).toEqual([{ time: t * 1000, agent_id: agentId, v: 1.5 }]);
  });

  it('gets a 400 naming the bad line for a batch with a bad point, and nothing of it is stored', async () => {
    const measurement = `influx2_bad_${RUN}`;
    const before = await h.streamMessages();
    const write = client.getWriteApi('agentmon-org', 'agent-bucket', 'ms', { maxRetries: 0, flushInterval: 0 });
    write.writePoint(new Point(measurement).tag('agent_id', agentId).floatField('v', 1));
    write.writePoint(new Point(measurement).tag('host', 'no-agent-id').floatField('v', 2));
    const err = await write.close().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).statusCode).toBe(400);
    expect((err as HttpError).json).toMatchObject({ statusCode: 400, details: [{ path: 'lines[1].tags.agent_id', reason: 'is required on every line' }] });
    expect(await h.streamMessages()).toBe(before);
    expect(await h.count(measurement)).toBe(0);
  });

  it('gets 401 with a key that is not valid', async () => {
    const bad = new Influx2({ url: `http://127.0.0.1:${INTEGRATION_PORTS.ingest}`, token: 'amk_notAKeyAnyoneIssued_0000000000' });
    const write = bad.getWriteApi('o', 'b', 'ms', { maxRetries: 0, flushInterval: 0 });
    write.writePoint(new Point('m').tag('agent_id', agentId).floatField('v', 1));
    const err = (await write.close().catch((e: unknown) => e)) as HttpError;
    expect(err.statusCode).toBe(401);
  });
});

describe('the InfluxDB 1.x node client (influx)', () => {
  const agentId = `influx1-${RUN}`;
  const measurement = `influx1_${RUN}`;
  const schema = [{ measurement, fields: { cpu_usage: FieldType.FLOAT, tasks: FieldType.INTEGER, state: FieldType.STRING, healthy: FieldType.BOOLEAN }, tags: ['agent_id', 'region'] }];
  const client = (password: string) =>
    new Influx1({ host: '127.0.0.1', port: INTEGRATION_PORTS.ingest, protocol: 'http', database: 'telegraf', username: 'agent', password, schema });

  it('writes with HTTP Basic auth at the default (nanosecond) and millisecond precisions', async () => {
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 120_000;
    await client(KEYS.write).writePoints([
      { measurement, tags: { agent_id: agentId, region: 'eu west' }, fields: { cpu_usage: 12.5, tasks: 7, state: 'busy, "really"', healthy: true }, timestamp: new Date(t0) },
      { measurement, tags: { agent_id: agentId, region: 'eu west' }, fields: { cpu_usage: 13.5, tasks: 8, state: 'idle', healthy: false }, timestamp: new Date(t0 + 1000) },
    ]);
    await client(KEYS.write).writePoints([{ measurement, tags: { agent_id: agentId, region: 'eu west' }, fields: { cpu_usage: 14.5, tasks: 9, state: 'idle', healthy: true }, timestamp: t0 + 2000 }], {
      precision: 'ms',
    });

    const rows = await eventually(() => h.rows(measurement), (r) => r.length === 3);
    expect(rows[0]).toEqual({ time: t0, agent_id: agentId, region: 'eu west', cpu_usage: 12.5, tasks: 7, state: 'busy, "really"', healthy: true });
    const history = await h.rpc.request('rpc.ingest.metrics.historical.v1', { agent_id: agentId, measurement, from: t0, to: t0 + 3000, interval: '1s' });
    expect(history.series).toEqual([
      { field: 'cpu_usage', points: [[iso(t0), 12.5], [iso(t0 + 1000), 13.5], [iso(t0 + 2000), 14.5]] },
      { field: 'tasks', points: [[iso(t0), 7], [iso(t0 + 1000), 8], [iso(t0 + 2000), 9]] },
    ]);
  });

  it('is refused with 401 with a wrong password and 403 with a key without ingest:write', async () => {
    const point = [{ measurement, tags: { agent_id: agentId }, fields: { cpu_usage: 1 } }];
    await expect(client('amk_wrongPasswordForTheOneXClient_00000').writePoints(point)).rejects.toMatchObject({ res: { statusCode: 401 } });
    await expect(client(KEYS.read).writePoints(point)).rejects.toMatchObject({ res: { statusCode: 403 } });
  });
});

describe('a Telegraf-style body', () => {
  /** What Telegraf's influx serializer writes: tags sorted, integers with `i`, a ns timestamp, `\n` after every line. */
  function telegrafBody(agentId: string, tsNs: bigint, rounds: number): { body: string; lines: number } {
    const out: string[] = [];
    for (let r = 0; r < rounds; r++) {
      const t = tsNs + BigInt(r) * 5_000_000_000n;
      for (let c = 0; c < 4; c++) {
        out.push(`cpu,agent_id=${agentId},cpu=cpu${c},host=web\\ 01 usage_user=${(10 + c + r / 100).toFixed(2)},usage_system=${(2.5 + c).toFixed(1)},usage_idle=${(80 - c).toFixed(1)} ${t}`);
      }
      out.push(`cpu,agent_id=${agentId},cpu=cpu-total,host=web\\ 01 usage_user=12.3,usage_system=3.1,usage_idle=84.6 ${t}`);
      out.push(`mem,agent_id=${agentId},host=web\\ 01 active=${3_000_000_000 + r}i,available=5000000000i,available_percent=61.2,free=1000000000i,total=8000000000i,used_percent=38.8 ${t}`);
      out.push(`disk,agent_id=${agentId},device=sda1,fstype=ext4,host=web\\ 01,mode=rw,path=/var/lib/my\\,data free=${50_000_000_000 - r}i,inodes_free=300000i,inodes_total=500000i,total=100000000000i,used_percent=50.1 ${t}`);
      out.push(`net,agent_id=${agentId},host=web\\ 01,interface=eth0 bytes_recv=${123_456_789 + r}i,bytes_sent=${98_765 + r}i,drop_in=0i,err_in=0i ${t}`);
      out.push(`system,agent_id=${agentId},host=web\\ 01 load1=0.42,load15=0.3,load5=0.35,n_cpus=4i,n_users=1i,uptime=${86_400 + r * 5}i ${t}`);
      out.push(`system,agent_id=${agentId},host=web\\ 01 uptime_format="1 day,  0:00" ${t}`);
    }
    return { body: `${out.join('\n')}\n`, lines: out.length };
  }

  it('is accepted whole on /api/v2/write (Token, gzip, ns) and every line is stored', async () => {
    const agentId = `telegraf-v2-${RUN}`;
    const start = BigInt(Math.floor((Date.now() - 60 * 60_000) / 10_000) * 10_000) * 1_000_000n;
    const { body, lines } = telegrafBody(agentId, start, 500);
    expect(lines).toBe(5000);
    const res = await h.post('/api/v2/write?bucket=telegraf&org=agentmon&precision=ns', gzipSync(body), {
      authorization: `Token ${KEYS.write}`,
      'content-type': 'text/plain; charset=utf-8',
      'content-encoding': 'gzip',
      'user-agent': 'Telegraf/1.33.0 Go/1.23.4',
    });
    expect(res.status).toBe(204);
    const count = async (m: string) => (await h.rows(m, `"agent_id" = '${agentId}'`)).length;
    expect(await eventually(() => count('cpu'), (n) => n === 2500, 30_000)).toBe(2500);
    // the two `system` lines of a round share series and time: InfluxDB merges them into one row
    for (const [m, n] of [['mem', 500], ['disk', 500], ['net', 500], ['system', 500]] as const) {
      expect(await eventually(() => count(m), (c) => c === n, 15_000)).toBe(n);
    }
    const disk = await h.rows('disk', `"agent_id" = '${agentId}' LIMIT 1`);
    expect(disk[0]).toMatchObject({ agent_id: agentId, host: 'web 01', path: '/var/lib/my,data', free: 50_000_000_000, inodes_total: 500_000 });
    const uptime = await h.rows('system', `"agent_id" = '${agentId}' AND "uptime_format" != '' LIMIT 1`);
    expect(uptime[0]).toMatchObject({ uptime_format: '1 day,  0:00' });

    const t0 = Number(start / 1_000_000n);
    const history = await h.rpc.request('rpc.ingest.metrics.historical.v1', { agent_id: agentId, measurement: 'mem', fields: ['active'], from: t0, to: t0 + 15_000, interval: '5s' });
    expect(history.series[0]!.points).toEqual([[iso(t0), 3_000_000_000], [iso(t0 + 5_000), 3_000_000_001], [iso(t0 + 10_000), 3_000_000_002]]);
  }, 60_000);

  it('is accepted on /write (Basic auth as Telegraf\'s influxdb output sends it, and u/p)', async () => {
    const agentId = `telegraf-v1-${RUN}`;
    const start = BigInt(Date.now() - 30 * 60_000) * 1_000_000n;
    const { body } = telegrafBody(agentId, start, 10);
    const basic = `Basic ${Buffer.from(`telegraf:${KEYS.write}`).toString('base64')}`;
    const v1 = await h.post('/write?db=telegraf&rp=autogen&precision=ns', gzipSync(body), { authorization: basic, 'content-encoding': 'gzip', 'content-type': 'text/plain; charset=utf-8' });
    expect(v1.status).toBe(204);
    const { body: second } = telegrafBody(`${agentId}-p`, start, 1);
    const up = await h.post(`/write?db=telegraf&u=telegraf&p=${KEYS.write}`, second, { 'content-type': 'text/plain; charset=utf-8' });
    expect(up.status).toBe(204);
    expect(await eventually(async () => (await h.rows('net', `"agent_id" = '${agentId}'`)).length, (n) => n === 10)).toBe(10);
    expect(await eventually(async () => (await h.rows('net', `"agent_id" = '${agentId}-p'`)).length, (n) => n === 1)).toBe(1);
  });

  it('with one bad line among thousands is refused whole, and the answer names that line', async () => {
    const agentId = `telegraf-bad-${RUN}`;
    const start = BigInt(Date.now() - 60 * 60_000) * 1_000_000n;
    const lines = telegrafBody(agentId, start, 300).body.split('\n');
    lines[1234] = `cpu,agent_id=${agentId},cpu=cpu0 usage_user=12.3.4 ${start}`;
    const before = await h.streamMessages();
    const res = await h.post('/api/v2/write?bucket=telegraf&org=agentmon', gzipSync(lines.join('\n')), { authorization: `Token ${KEYS.write}`, 'content-encoding': 'gzip' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ details: [{ path: 'lines[1234].fields.usage_user', reason: expect.stringContaining('invalid value') }] });
    expect(await h.streamMessages()).toBe(before);
    expect(await h.rows('cpu', `"agent_id" = '${agentId}'`)).toEqual([]);
  });
});

afterAll(() => {
  // the 2.x client logged the refusals the tests provoked, and nothing else
  expect(clientLog.every((m) => /Write to InfluxDB failed/.test(m))).toBe(true);
});
