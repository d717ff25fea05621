/**
 * The HTTP endpoints under fuzz: a few hundred malformed requests of every kind (seeded, FUZZ_SEED
 * replays another run) against the running service. Every answer must come quickly and be a 4xx
 * with a readable body (the contract's JSON error, or a google.rpc.Status on /v1/metrics); nothing
 * of a refused request may reach the stream or InfluxDB; the service must still take good data
 * afterwards.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { decodeStatus, encodeMetricsRequest } from '../src/otlp/otlp-protobuf.js';
import { FUZZ_SEED, brokenProtobuf, goodOtlp, malformedJsonBatch, malformedLines, malformedOtlp, notABatch } from './support/malformed.js';
import { IngestHarness, KEYS, eventually } from './support/ingest-harness.js';

const RUN = Date.now().toString(36);
const h = new IngestHarness('agentmon_int_fuzz');
/** every good point in the malformed batches goes to these names, so "nothing stored" can be checked */
const LP_MEASUREMENT = `fuzz_lp_${RUN}`;
const JSON_MEASUREMENT = `fuzz_json_${RUN}`;
const OTLP_METRIC = `fuzz.otlp.${RUN}`;

interface Case {
  what: string;
  path: string;
  body: Buffer;
  headers: Record<string, string>;
  /** answers allowed besides 400 (random bytes may happen to be an empty, valid message) */
  alsoOk?: number[];
}

let streamBefore = 0;
beforeAll(async () => {
  await h.start();
  streamBefore = await h.streamMessages();
}, 60_000);
afterAll(async () => {
  await h.stop();
});

function cases(now: number): Case[] {
  const sample = <T>(arb: fc.Arbitrary<T>, n: number, salt: number) => fc.sample(arb, { seed: FUZZ_SEED + salt, numRuns: n });
  const token = { authorization: `Token ${KEYS.write}` };
  const bearer = { authorization: `Bearer ${KEYS.write}` };
  const maybeGzip = (i: number, body: Buffer, headers: Record<string, string>) => (i % 3 === 0 ? { body: gzipSync(body), headers: { ...headers, 'content-encoding': 'gzip' } } : { body, headers });
  const out: Case[] = [];

  sample(malformedLines(now, fc.constant(LP_MEASUREMENT)), 90, 1).forEach(({ body }, i) => {
    const path = i % 2 ? '/api/v2/write?org=o&bucket=b&precision=ms' : `/write?db=d&precision=ms&u=fuzz&p=${KEYS.write}`;
    out.push({ what: 'line protocol with a bad line', path, ...maybeGzip(i, Buffer.from(body), i % 2 ? { ...token, 'content-type': 'text/plain; charset=utf-8' } : {}) });
  });
  sample(fc.uint8Array({ minLength: 1, maxLength: 300 }), 20, 2).forEach((bytes) =>
    out.push({ what: 'line protocol of random bytes', path: '/api/v2/write?precision=ns', body: Buffer.concat([Buffer.from([0xff]), bytes]), headers: token }),
  );
  sample(malformedJsonBatch(now, fc.constant(JSON_MEASUREMENT)), 70, 3).forEach(({ body }, i) =>
    out.push({ what: 'JSON batch with a bad point', path: '/api/v2/ingest', ...maybeGzip(i, Buffer.from(JSON.stringify(body)), { ...bearer, 'content-type': 'application/json' }) }),
  );
  sample(notABatch, 15, 4).forEach((body) => out.push({ what: 'JSON that is no batch', path: '/api/v2/ingest', body: Buffer.from(JSON.stringify(body) ?? 'undefined'), headers: { ...bearer, 'content-type': 'application/json' } }));
  sample(malformedOtlp(now, false, fc.constant(OTLP_METRIC)), 50, 5).forEach((body, i) =>
    out.push({ what: 'OTLP/JSON with a bad data point', path: '/v1/metrics', ...maybeGzip(i, Buffer.from(JSON.stringify(body) ?? 'null'), { ...bearer, 'content-type': 'application/json' }) }),
  );
  sample(malformedOtlp(now, true, fc.constant(OTLP_METRIC)), 40, 6).forEach((body, i) =>
    out.push({ what: 'OTLP protobuf with a bad data point', path: '/v1/metrics', ...maybeGzip(i, encodeMetricsRequest(body as object), { ...bearer, 'content-type': 'application/x-protobuf' }) }),
  );
  const valid = goodOtlp(now, fc.constant(OTLP_METRIC)).map((r) => new Uint8Array(encodeMetricsRequest(r)));
  sample(brokenProtobuf(valid, false), 40, 7).forEach((bytes) =>
    out.push({ what: 'OTLP protobuf cut, or random bytes', path: '/v1/metrics', body: Buffer.from(bytes), headers: { ...bearer, 'content-type': 'application/x-protobuf' }, alsoOk: [200] }),
  );

  // text-level damage no generator of values makes
  const good = JSON.stringify({ agent: { id: 'fuzz' }, points: [{ measurement: JSON_MEASUREMENT, fields: { v: 1 } }] });
  const json = { ...bearer, 'content-type': 'application/json' };
  for (let cut = 1; cut < good.length; cut += 7) out.push({ what: 'truncated JSON', path: '/api/v2/ingest', body: Buffer.from(good.slice(0, cut)), headers: json });
  out.push(
    { what: 'JSON with invalid UTF-8', path: '/api/v2/ingest', body: Buffer.concat([Buffer.from(good.slice(0, 30)), Buffer.from([0xc3, 0x28]), Buffer.from(good.slice(30))]), headers: json },
    { what: 'line protocol with invalid UTF-8', path: '/api/v2/write', body: Buffer.from([...Buffer.from(`${LP_MEASUREMENT},agent_id=a,k=`), 0xed, 0xa0, 0x80, ...Buffer.from(' v=1')]), headers: token },
    { what: 'OTLP/JSON with invalid UTF-8', path: '/v1/metrics', body: Buffer.from([0x7b, 0x22, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), headers: json },
    { what: 'JSON with NaN', path: '/api/v2/ingest', body: Buffer.from(good.replace('"v":1', '"v":NaN')), headers: json },
    { what: 'JSON with a huge number', path: '/api/v2/ingest', body: Buffer.from(good.replace('"v":1', `"v":1${'0'.repeat(400)}`)), headers: json },
    { what: 'JSON with duplicate keys and a bad point', path: '/api/v2/ingest', body: Buffer.from(good.replace('"fields":{"v":1}', '"fields":{"v":1},"fields":{"v":"x","w":[]}')), headers: json },
    { what: 'JSON with __proto__', path: '/api/v2/ingest', body: Buffer.from(good.replace('"fields":{"v":1}', '"fields":{"__proto__":{"v":1}}')), headers: json },
    { what: 'JSON nested 100,000 deep', path: '/api/v2/ingest', body: Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), headers: json },
    { what: 'OTLP/JSON nested 100,000 deep', path: '/v1/metrics', body: Buffer.from(`{"resourceMetrics":${'['.repeat(100_000)}${']'.repeat(100_000)}}`), headers: json },
    { what: 'gzip that is not gzip', path: '/api/v2/write', body: Buffer.from('definitely not gzip'), headers: { ...token, 'content-encoding': 'gzip' } },
    { what: 'truncated gzip', path: '/v1/metrics', body: gzipSync(Buffer.from(good)).subarray(0, 20), headers: { ...json, 'content-encoding': 'gzip' } },
    { what: 'control characters in JSON strings', path: '/api/v2/ingest', body: Buffer.from(good.replace(JSON_MEASUREMENT, `${JSON_MEASUREMENT}\\u0000\\u001b`)), headers: json },
    { what: 'line protocol with a NUL in the measurement', path: '/api/v2/write', body: Buffer.from(`${LP_MEASUREMENT}\u0000,agent_id=a v=1`), headers: token },
  );
  return out;
}

async function send(c: Case): Promise<{ status: number; text: string; ms: number }> {
  const start = Date.now();
  const res = await fetch(`${h.base}${c.path}`, { method: 'POST', headers: c.headers, body: c.body, signal: AbortSignal.timeout(10_000) });
  const buf = Buffer.from(await res.arrayBuffer());
  // every error body is readable: the contract's JSON, or a google.rpc.Status on /v1/metrics
  let text: string;
  if (res.status >= 400 && res.headers.get('content-type')?.startsWith('application/x-protobuf')) {
    const st = decodeStatus(buf);
    expect(st.message.length).toBeGreaterThan(0);
    text = JSON.stringify(st);
  } else {
    text = buf.toString('utf8');
    if (res.status >= 400) expect(JSON.parse(text)).toEqual(expect.objectContaining({ message: expect.any(String) }));
  }
  return { status: res.status, text, ms: Date.now() - start };
}

describe('HTTP endpoints under fuzz', () => {
  it('answer every malformed request with a 4xx, quickly, and store nothing of it', async () => {
    const all = cases(Date.now());
    expect(all.length).toBeGreaterThan(300);
    const unexpected: string[] = [];
    let slowest = 0;
    // eight at a time
    for (let i = 0; i < all.length; i += 8) {
      const batch = all.slice(i, i + 8);
      const answers = await Promise.all(batch.map(send));
      answers.forEach((a, j) => {
        const c = batch[j]!;
        slowest = Math.max(slowest, a.ms);
        const fine = a.status === 400 || (c.alsoOk ?? []).includes(a.status);
        if (!fine) unexpected.push(`${c.what} (${c.path}): ${a.status} ${a.text.slice(0, 300)}`);
      });
    }
    expect(unexpected).toEqual([]);
    expect(slowest).toBeLessThan(10_000);

    // nothing of any of them reached the stream or InfluxDB
    await new Promise((r) => setTimeout(r, 500));
    expect(await h.streamMessages()).toBe(streamBefore);
    for (const m of [LP_MEASUREMENT, JSON_MEASUREMENT, OTLP_METRIC]) expect(await h.count(m)).toBe(0);
  }, 120_000);

  it('still takes good data in every format afterwards', async () => {
    const t = Date.now() - 1000;
    const lp = await h.post('/api/v2/write?precision=ms', `${LP_MEASUREMENT},agent_id=after-fuzz v=1 ${t}`, { authorization: `Token ${KEYS.write}` });
    expect(lp.status).toBe(204);
    const js = await h.post('/api/v2/ingest', JSON.stringify({ agent: { id: 'after-fuzz' }, points: [{ measurement: JSON_MEASUREMENT, fields: { v: 1 }, time: t }] }), {
      authorization: `Bearer ${KEYS.write}`,
      'content-type': 'application/json',
    });
    expect(js.status).toBe(202);
    const otlp = await h.post('/v1/metrics', encodeMetricsRequest(fc.sample(goodOtlp(Date.now(), fc.constant(OTLP_METRIC)), { seed: FUZZ_SEED, numRuns: 1 })[0]!), {
      authorization: `Bearer ${KEYS.write}`,
      'content-type': 'application/x-protobuf',
    });
    expect(otlp.status).toBe(200);
    for (const m of [LP_MEASUREMENT, JSON_MEASUREMENT, OTLP_METRIC]) expect(await eventually(() => h.count(m), (n) => n > 0)).toBeGreaterThan(0);
    expect((await fetch(`${h.base}/health/live`)).status).toBe(200);
  });
});
