/**
 * The InfluxDB writer keeps up when the traffic changes shape: a large batch right after thousands of
 * small ones is written within seconds. (A consumer that pre-fetched by bytes stalled here for about
 * 30 s: the server ends a pull whose byte budget is smaller than the next message with a 409, and the
 * client only pulls again after missed heartbeats. Found by bench/ingest.mjs.)
 * The service runs in-process against the test profile's NATS, Redis and InfluxDB.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { encodePoint } from '@agentmon/contracts';
import { IngestHarness, KEYS, eventually } from './support/ingest-harness.js';

const RUN = Date.now().toString(36);
const h = new IngestHarness('agentmon_int_writer');
let nc: NatsConnection;

beforeAll(async () => {
  await h.start();
  nc = await connect({ servers: (await import('../../../test/support/test-env.js')).TEST_INFRA.natsUrl });
}, 60_000);
afterAll(async () => {
  await nc?.close();
  await h.stop();
});

describe('InfluxDB writer', () => {
  it('writes a 5,000-line batch within seconds after 7,000 small messages', async () => {
    const small = `wt_small_${RUN}`;
    const big = `wt_big_${RUN}`;
    const t0 = Date.now() - 120_000;
    // 7,000 small stream messages, as 7,000 agents pushing one point each would leave them
    const js = jetstream(nc);
    const publishes: Promise<unknown>[] = [];
    for (let i = 0; i < 7000; i++) {
      const line = encodePoint({ agent_id: `wt-${i % 100}`, measurement: small, tags: { host: 'h1' }, fields: { v: i, pad: 'x'.repeat(400) }, time: t0 + i });
      publishes.push(js.publish('evt.ingest.telemetry.lines.v1', line, { msgID: `${RUN}-s${i}:l0` }));
      if (publishes.length >= 500) await Promise.all(publishes.splice(0));
    }
    await Promise.all(publishes);
    expect(await eventually(() => h.count(small), (n) => n === 7000, 60_000)).toBe(7000);

    // then one large batch through the public API
    const lines = Array.from({ length: 5000 }, (_, i) => `${big},agent_id=wt-${i % 100},host=node-${i % 7} cpu=${i / 10},mem=${i % 97} ${t0 + i}`).join('\n');
    const res = await h.post('/api/v2/write?org=o&bucket=b&precision=ms', lines, { authorization: `Token ${KEYS.write}`, 'content-type': 'text/plain' });
    expect(res.status).toBe(204);
    const acceptedAt = Date.now();
    const stored = await eventually(() => h.count(big), (n) => n === 5000, 25_000);
    expect(stored).toBe(5000);
    // the stall this guards against lasted about 30 s
    expect(Date.now() - acceptedAt).toBeLessThan(15_000);
  }, 150_000);
});
