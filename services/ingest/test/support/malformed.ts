/**
 * Generators (fast-check, seeded) of well-formed and malformed telemetry in the three wire formats,
 * shared by the parser fuzz tests (src/**\/*.fuzz.spec.ts) and the HTTP fuzz test. Every malformed
 * case built here is invalid by construction: a valid batch with one bad item spliced in at a known
 * index, so a test can insist on a refusal that names that item.
 */
import fc from 'fast-check';
import { encodePoint } from '@agentmon/contracts';

/** One seed for every fuzz run; set FUZZ_SEED to replay another. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_261_127);

const DAY = 86_400_000;
const name = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,15}$/).filter((s) => s !== 'time' && s !== 'agent_id');
/** Field names say their type, so that one field keeps one type across a batch. */
const fieldValue = {
  n: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }),
  b: fc.boolean(),
  s: fc.string({ maxLength: 40, unit: 'grapheme' }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)),
};
const fields = fc
  .array(fc.tuple(fc.constantFrom('n', 'b', 's'), name), { minLength: 1, maxLength: 4 })
  .chain((keys) => fc.tuple(...keys.map(([kind, key]) => fieldValue[kind as 'n'].map((v) => [`${kind}_${key}`, v] as const))))
  .map((pairs) => Object.fromEntries(pairs) as Record<string, number | boolean | string>);
const tags = fc.dictionary(name, fc.stringMatching(/^[A-Za-z0-9 ,=._:/-]{1,20}$/), { maxKeys: 3 });
const agentId = fc.stringMatching(/^[A-Za-z0-9._:-]{1,24}$/);

export interface GoodPoint {
  agent_id: string;
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number | boolean | string>;
  time: number;
}

/** Points that every parser must accept, timed in the last hour before `now`. */
export function goodPoints(now: number, measurement: fc.Arbitrary<string> = name, max = 8): fc.Arbitrary<GoodPoint[]> {
  return fc.array(
    fc.record({ agent_id: agentId, measurement, tags, fields, time: fc.integer({ min: now - 3_600_000, max: now }) }),
    { minLength: 0, maxLength: max },
  );
}

// ---------------------------------------------------------------- line protocol

/** Lines that break one rule each (precision ms). */
export function badLine(now: number): fc.Arbitrary<string> {
  const ok = `agent_id=a`;
  return fc.oneof(
    fc.constantFrom(
      `bad\u0001name,${ok} v=1`, // control character in the measurement
      `m,host=x v=1`, // no agent_id
      `m,${ok} s="never closed`, // unterminated string
      `m,${ok}`, // no fields
      `m,${ok} `, // no fields after the space
      `m,${ok},k=1,k=2 v=1`, // one tag twice
      `m,${ok},=x v=1`, // empty tag key
      `m,${ok},k= v=1`, // empty tag value
      `m,${ok},k=a=b v=1`, // unescaped = in a tag value
      `m,${ok} time=1`, // reserved field key
      `m,${ok},time=x v=1`, // reserved tag key
      `m,agent_id=has\\ space v=1`, // not an agent id
      `m,${ok} v=1 ${now} trailing`, // text after the timestamp
      `m,${ok} v=1,=2`, // empty field key
      `m,${ok} v=9223372036854775808i`, // beyond int64
      `m,${ok} v=18446744073709551616u`, // beyond uint64
      `m,${ok} v=-1u`, // negative unsigned
      `m,${ok} v=1e999`, // not a finite double
      `m,${ok} v=1 ${now + 3_600_000}`, // in the future
      `m,${ok} v=1 ${now - 400 * DAY}`, // older than the retention
      `m,${ok} v=1 x`, // bad timestamp
      `${'m'.repeat(257)},${ok} v=1`, // oversized measurement
      `m,${ok},${'k'.repeat(129)}=v v=1`, // oversized tag key
      `m,${ok},k=${'v'.repeat(257)} v=1`, // oversized tag value
      `m,${ok} ${'f'.repeat(257)}=1`, // oversized field key
      `m,${ok},k=a\u0000b v=1`, // control character in a tag value
    ),
    // a field value that is no value
    fc.constantFrom('abc', '1.2.3', '--1', '1x', 'NaN', 'Infinity', '+1', '0x1F', '1e', '"', '1.5i', 'tRUE', "'s'").map((v) => `m,${ok} v=${v}`),
    // a timestamp that is no timestamp
    fc.constantFrom('abc', '1e18', '+5', '1.5', '99999999999999999999999999', '--1').map((t) => `m,${ok} v=1 ${t}`),
    // a string longer than a field may be
    fc.constant(`m,${ok} s="${'x'.repeat(65_537)}"`),
    // garbage that starts with a control character
    fc.string({ maxLength: 60 }).map((s) => `\u0007${s.replace(/\n/g, ' ')}`),
  );
}

/** A body of good lines with one bad line at `badIndex`. */
export function malformedLines(now: number, measurement: fc.Arbitrary<string> = name): fc.Arbitrary<{ body: string; badIndex: number }> {
  return fc.tuple(goodPoints(now, measurement), badLine(now), fc.nat()).map(([points, bad, at]) => {
    const lines = points.map(encodePoint);
    const badIndex = at % (lines.length + 1);
    lines.splice(badIndex, 0, bad);
    return { body: lines.join('\n'), badIndex };
  });
}

// ---------------------------------------------------------------- JSON batches

type Json = Record<string, unknown>;
/** Nested arrays `depth` deep, built without recursion. */
export function deeplyNested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Mutations that make one point of a JSON batch invalid. */
const badPointPatch: fc.Arbitrary<(p: Json) => Json> = fc.oneof(
  fc.constantFrom<unknown>({ a: 1 }, [1], null, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 'x'.repeat(65_537), deeplyNested(5000)).map((v) => (p: Json) => ({ ...p, fields: { ...(p.fields as Json), bad: v } })),
  fc.constantFrom<unknown>('', 'm'.repeat(257), 'bad\u0001name', 42, null, '#comment', ['m']).map((m) => (p: Json) => ({ ...p, measurement: m })),
  fc.constantFrom<unknown>({}, 'v=1', [], null, { '': 1 }, { 'k\u0000': 1 }, { time: 1 }, { [`${'f'.repeat(257)}`]: 1 }).map((f) => (p: Json) => ({ ...p, fields: f })),
  fc.constantFrom<unknown>({ k: 1 }, { k: 'a\nb' }, { ['k'.repeat(129)]: 'v' }, { agent_id: 'x' }, { time: 'x' }, 'tags', { k: 'v'.repeat(257) }).map((t) => (p: Json) => ({ ...p, tags: t })),
  fc.constantFrom<unknown>('yesterday', -1, 1e20, '2026-02-30T00:00:00Z', true, 1.5, '2026-11-27T12:00:00', {}).map((time) => (p: Json) => ({ ...p, time })),
  fc.constant((p: Json) => {
    const { fields: _dropped, ...rest } = p;
    return rest;
  }),
);

/** A JSON batch of good points with one bad point at `badIndex`. */
export function malformedJsonBatch(now: number, measurement: fc.Arbitrary<string> = name): fc.Arbitrary<{ body: Json; badIndex: number }> {
  return fc.tuple(agentId, goodPoints(now, measurement), badPointPatch, fc.nat()).map(([agent, points, patch, at]) => {
    const list: Json[] = points.map((p) => ({ measurement: p.measurement, tags: p.tags, fields: p.fields, time: p.time }));
    const badIndex = at % (list.length + 1);
    list.splice(badIndex, 0, patch({ measurement: 'm', fields: { n_v: 1 } }));
    return { body: { agent: { id: agent }, points: list }, badIndex };
  });
}

/** Bodies that are no batch at all. */
export const notABatch: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, [], 'batch', 42, true, {}, { points: [] }, { agent: {}, points: [] }, { agent: { id: 'bad id' }, points: [] }, { agent: { id: 'a' }, points: 'x' }, { agent: [], points: [] }),
  fc.constant({ agent: { id: 'a', tags: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`t${i}`, 'v'])) }, points: [] }),
  fc.constant({ agent: { id: 'a' }, points: deeplyNested(3000) }),
);

// ---------------------------------------------------------------- OTLP (proto3 JSON form)

const ns = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
const kv = (key: string, v: unknown) => ({ key, value: v });

/** A valid ExportMetricsServiceRequest with gauges, sums and a histogram. */
export function goodOtlp(now: number, metricName: fc.Arbitrary<string> = name): fc.Arbitrary<Json & { resourceMetrics: Json[] }> {
  const point = fc.record({ v: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }).map((v) => (v === 0 ? 0 : v)), t: fc.integer({ min: now - 3_600_000, max: now }), attr: fc.dictionary(name, fc.stringMatching(/^[a-z0-9 ]{1,10}$/), { maxKeys: 3 }) });
  const dataPoints = fc.array(point, { minLength: 1, maxLength: 4 }).map((ps) => ps.map((p) => ({ timeUnixNano: ns(p.t), asDouble: p.v, attributes: Object.entries(p.attr).map(([k, v]) => kv(k, { stringValue: v })) })));
  const metric = fc.oneof(
    fc.record({ name: metricName, gauge: fc.record({ dataPoints }) }),
    fc.record({ name: metricName, sum: fc.record({ dataPoints, aggregationTemporality: fc.constant(2), isMonotonic: fc.boolean() }) }),
    fc.record({ name: metricName, histogram: fc.constant({ aggregationTemporality: 2, dataPoints: [{ timeUnixNano: ns(now - 1000), count: '3', sum: 6, explicitBounds: [1, 2], bucketCounts: ['1', '1', '1'] }] }) }),
  );
  return fc.tuple(agentId, fc.array(metric, { minLength: 1, maxLength: 4 })).map(([agent, metrics]) => ({
    resourceMetrics: [{ resource: { attributes: [kv('agent.id', { stringValue: agent }), kv('service.name', { stringValue: 'fuzz' })] }, scopeMetrics: [{ scope: { name: 'fuzz' }, metrics }] }],
  }));
}

/** Mutations that make one data point invalid; `protobuf` ones survive a protobuf encoding. */
const badDataPoint: { protobuf: boolean; patch: (dp: Json, now: number) => Json }[] = [
  { protobuf: true, patch: (dp) => ({ ...dp, asDouble: Number.NaN }) },
  { protobuf: true, patch: (dp) => ({ ...dp, asDouble: Number.POSITIVE_INFINITY }) },
  { protobuf: false, patch: (dp) => ({ ...dp, asDouble: 'Infinity' }) },
  { protobuf: false, patch: (dp) => ({ ...dp, asDouble: 'abc' }) },
  { protobuf: false, patch: (dp) => ({ ...dp, asDouble: { x: 1 } }) },
  { protobuf: false, patch: (dp) => ({ ...dp, asDouble: true }) },
  { protobuf: true, patch: (dp) => ({ ...dp, asDouble: undefined }) },
  { protobuf: true, patch: (dp, now) => ({ ...dp, timeUnixNano: ns(now + 3_600_000) }) },
  { protobuf: true, patch: (dp, now) => ({ ...dp, timeUnixNano: ns(now - 400 * DAY) }) },
  { protobuf: false, patch: (dp) => ({ ...dp, timeUnixNano: '-1' }) },
  { protobuf: false, patch: (dp) => ({ ...dp, timeUnixNano: '123456789012345678901234567890' }) },
  { protobuf: false, patch: (dp) => ({ ...dp, timeUnixNano: 1.5 }) },
  { protobuf: false, patch: (dp) => ({ ...dp, flags: 'x' }) },
  { protobuf: true, patch: (dp) => ({ ...dp, attributes: [kv('dup', { stringValue: 'a' }), kv('dup', { stringValue: 'b' })] }) },
  { protobuf: true, patch: (dp) => ({ ...dp, attributes: [kv('', { stringValue: 'a' })] }) },
  { protobuf: true, patch: (dp) => ({ ...dp, attributes: [kv('k'.repeat(129), { stringValue: 'a' })] }) },
  { protobuf: true, patch: (dp) => ({ ...dp, attributes: [kv('k', { stringValue: 'a\u0001b' })] }) },
  { protobuf: true, patch: (dp) => ({ ...dp, attributes: [kv('k', { stringValue: 'v'.repeat(257) })] }) },
  { protobuf: true, patch: (dp) => ({ ...dp, attributes: [kv('time', { stringValue: 'x' })] }) },
  { protobuf: true, patch: (dp) => ({ ...dp, attributes: [kv('k', deepAnyValue(6))] }) },
  { protobuf: false, patch: (dp) => ({ ...dp, attributes: [kv('k', deepAnyValue(500))] }) },
  { protobuf: false, patch: (dp) => ({ ...dp, attributes: { k: 'v' } }) },
  { protobuf: false, patch: (dp) => ({ ...dp, attributes: [{ value: { stringValue: 'no key' } }] }) },
];
function deepAnyValue(depth: number): Json {
  let v: Json = { stringValue: 'leaf' };
  for (let i = 0; i < depth; i++) v = { arrayValue: { values: [v] } };
  return v;
}
/** Mutations of a metric or of the request around the points. */
const badEnvelope: { protobuf: boolean; patch: (req: Json & { resourceMetrics: Json[] }) => unknown }[] = [
  { protobuf: true, patch: (r) => withMetric(r, (m) => ({ ...m, name: '' })) },
  { protobuf: true, patch: (r) => withMetric(r, (m) => ({ ...m, name: 'bad\u0001name' })) },
  { protobuf: true, patch: (r) => withMetric(r, (m) => ({ ...m, name: 'm'.repeat(300) })) },
  { protobuf: true, patch: (r) => withMetric(r, (m) => ({ name: m.name })) },
  { protobuf: true, patch: (r) => withMetric(r, (m) => ({ name: m.name, histogram: { dataPoints: [{ count: '3', explicitBounds: [1, 2], bucketCounts: ['1', '2'] }] } })) },
  { protobuf: true, patch: (r) => withMetric(r, (m) => ({ name: m.name, histogram: { dataPoints: [{ count: '3', explicitBounds: [2, 1], bucketCounts: ['1', '1', '1'] }] } })) },
  { protobuf: true, patch: (r) => withMetric(r, (m) => ({ name: m.name, summary: { dataPoints: [{ count: '1', sum: 1, quantileValues: [{ quantile: 2, value: 1 }] }] } })) },
  { protobuf: false, patch: (r) => withMetric(r, (m) => ({ name: m.name, sum: { aggregationTemporality: 'CUMULATIVE', dataPoints: [{ asInt: '1' }] } })) },
  { protobuf: false, patch: (r) => withMetric(r, (m) => ({ ...m, gauge: { dataPoints: 'x' } })) },
  { protobuf: false, patch: (r) => withMetric(r, (m) => ({ ...m, name: 42 })) },
  { protobuf: true, patch: (r) => withResource(r, { attributes: [kv('service.name', { stringValue: 'no agent' })] }) },
  { protobuf: true, patch: (r) => withResource(r, { attributes: [kv('agent.id', { stringValue: 'not an id' })] }) },
  { protobuf: true, patch: (r) => withResource(r, { attributes: [kv('agent.id', { intValue: '7' }), kv('agent.id', { stringValue: 'a' })] }) },
  { protobuf: false, patch: (r) => ({ ...r, resourceMetrics: {} }) },
  { protobuf: false, patch: () => [] },
  { protobuf: false, patch: () => 'resourceMetrics' },
  { protobuf: false, patch: () => null },
  { protobuf: false, patch: (r) => ({ ...r, resourceMetrics: [null] }) },
];
function withMetric(r: Json & { resourceMetrics: Json[] }, f: (m: Json) => Json): Json {
  const rm = r.resourceMetrics[0] as { scopeMetrics: { metrics: Json[] }[] };
  const metrics = [...rm.scopeMetrics[0]!.metrics];
  metrics[0] = f(metrics[0]!);
  return { resourceMetrics: [{ ...rm, scopeMetrics: [{ ...rm.scopeMetrics[0], metrics }] }] };
}
function withResource(r: Json & { resourceMetrics: Json[] }, resource: Json): Json {
  return { resourceMetrics: [{ ...r.resourceMetrics[0], resource }] };
}

/** A valid request with one bad data point or envelope; `protobufOnly` keeps the kinds protobuf can carry. */
export function malformedOtlp(now: number, protobufOnly = false, metricName: fc.Arbitrary<string> = name): fc.Arbitrary<unknown> {
  const points = badDataPoint.filter((b) => b.protobuf || !protobufOnly);
  const envelopes = badEnvelope.filter((b) => b.protobuf || !protobufOnly);
  return fc.oneof(
    // the first metric becomes a gauge with a good point and a bad one
    fc.tuple(goodOtlp(now, metricName), fc.constantFrom(...points)).map(([req, bad]) =>
      withMetric(req, (m) => {
        const good = { timeUnixNano: ns(now - 1000), asDouble: 1 };
        return { name: m.name, gauge: { dataPoints: [good, bad.patch(good, now)] } };
      }),
    ),
    fc.tuple(goodOtlp(now, metricName), fc.constantFrom(...envelopes)).map(([req, bad]) => bad.patch(req)),
  );
}

/**
 * Bytes that are no protobuf message, or a cut one, or (`withFlips`) one with a byte changed, which
 * may well still be a valid message with other values.
 */
export function brokenProtobuf(valid: fc.Arbitrary<Uint8Array>, withFlips = true): fc.Arbitrary<Uint8Array> {
  const random = fc.uint8Array({ minLength: 1, maxLength: 300 });
  const cut = fc.tuple(valid, fc.nat()).map(([bytes, at]) => bytes.subarray(0, bytes.length > 1 ? 1 + (at % (bytes.length - 1)) : 0));
  const flipped = fc.tuple(valid, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([bytes, at, x]) => {
    const copy = Uint8Array.from(bytes);
    if (copy.length > 0) copy[at % copy.length]! ^= x;
    return copy;
  });
  return withFlips ? fc.oneof(random, cut, flipped) : fc.oneof(random, cut);
}
