/**
 * Property tests of the three parsers with a seeded generator (fast-check; FUZZ_SEED replays
 * another run): thousands of malformed inputs of every kind. Each parser must answer every input
 * (never throw, never take long), refuse every malformed batch whole while naming the bad item, and
 * accept what is well-formed exactly as sent.
 */
import fc from 'fast-check';
import { FUZZ_SEED, brokenProtobuf, goodOtlp, goodPoints, malformedJsonBatch, malformedLines, malformedOtlp, notABatch } from '../../test/support/malformed.js';
import { decodeLines, encodePoint } from '@agentmon/contracts';
import { OtlpMetricsMapper } from '../otlp/otlp-metrics.mapper.js';
import { decodeMetricsRequest, encodeMetricsRequest } from '../otlp/otlp-protobuf.js';
import { JsonBatchValidator } from './json-batch.validator.js';
import { parseLineProtocol } from './line-protocol.parser.js';
import { pointLimits, type Details } from './point-rules.js';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const limits = pointLimits(NOW, 90 * 86_400_000, 900_000);
const MAX_POINTS = 50_000;
const json = new JsonBatchValidator(MAX_POINTS);
const otlp = new OtlpMetricsMapper(MAX_POINTS);
const run = (numRuns: number) => ({ seed: FUZZ_SEED, numRuns });

/** Runs `fn`, failing when it takes longer than a parser ever should. */
function timed<T>(fn: () => T): T {
  const start = performance.now();
  const out = fn();
  const ms = performance.now() - start;
  if (ms > 2000) throw new Error(`took ${Math.round(ms)} ms`);
  return out;
}
function expectRefusal(out: { ok: boolean; details?: Details }, prefix?: string): void {
  expect(out.ok).toBe(false);
  const list = out.details!.list;
  expect(list.length).toBeGreaterThan(0);
  for (const d of list) expect(typeof d.path === 'string' && typeof d.reason === 'string' && d.reason.length > 0).toBe(true);
  if (prefix !== undefined) expect(list.some((d) => d.path === prefix || d.path.startsWith(`${prefix}.`) || d.path.startsWith(`${prefix}[`))).toBe(true);
}
/** OTLP protobuf as the endpoint reads it: undecodable bytes are a refusal too. */
function mapProtobuf(bytes: Uint8Array) {
  let decoded: unknown;
  try {
    decoded = decodeMetricsRequest(bytes);
  } catch {
    return { decoded: false as const };
  }
  return { decoded: true as const, outcome: timed(() => otlp.map(decoded, limits)) };
}
const nonNegativeZero = (points: ReturnType<typeof goodPoints> extends fc.Arbitrary<infer T> ? T : never) =>
  points.map((p) => ({ ...p, fields: Object.fromEntries(Object.entries(p.fields).map(([k, v]) => [k, v === 0 ? 0 : v])) }));

describe('line protocol parser under fuzz', () => {
  it('refuses every body with one malformed line, naming that line', () => {
    fc.assert(
      fc.property(malformedLines(NOW), ({ body, badIndex }) => {
        expectRefusal(timed(() => parseLineProtocol(body, 'ms', limits, MAX_POINTS)), `lines[${badIndex}]`);
      }),
      run(2000),
    );
  });

  it('accepts well-formed lines exactly as written', () => {
    fc.assert(
      fc.property(goodPoints(NOW).map(nonNegativeZero), (points) => {
        const out = timed(() => parseLineProtocol(points.map(encodePoint).join('\n'), 'ms', limits, MAX_POINTS));
        if (!out.ok) throw new Error(JSON.stringify(out.details.list));
        expect(out.batch.points).toEqual(points);
      }),
      run(1000),
    );
  });

  it('answers truncated bodies, random text and random bytes without throwing', () => {
    const truncated = fc.tuple(goodPoints(NOW, undefined, 6), fc.nat()).map(([points, cut]) => {
      const body = points.map(encodePoint).join('\n');
      return body.slice(0, cut % (body.length + 1));
    });
    const bytes = fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString('utf8'));
    const text = fc.string({ maxLength: 400, unit: 'binary' });
    fc.assert(
      fc.property(fc.oneof(truncated, bytes, text), (body) => {
        const out = timed(() => parseLineProtocol(body, 'ns', limits, MAX_POINTS));
        if (out.ok) for (let i = 0; i < out.batch.points.length; i++) expect(decodeLines(out.batch.encoded[i]!)).toEqual([out.batch.points[i]]);
        else expectRefusal(out);
      }),
      run(3000),
    );
  });
});

describe('JSON batch validator under fuzz', () => {
  it('refuses every batch with one malformed point, naming that point', () => {
    fc.assert(
      fc.property(malformedJsonBatch(NOW), ({ body, badIndex }) => {
        expectRefusal(timed(() => json.check(body, limits)), `points[${badIndex}]`);
      }),
      run(3000),
    );
  });

  it('refuses bodies that are no batch, and answers anything at all without throwing', () => {
    fc.assert(fc.property(notABatch, (body) => expectRefusal(timed(() => json.check(body, limits)))), run(300));
    fc.assert(
      fc.property(fc.oneof(fc.anything({ maxDepth: 6, withNullPrototype: true, withBigInt: true }), fc.jsonValue({ maxDepth: 6 })), (body) => {
        const out = timed(() => json.check(body, limits));
        if (!out.ok) expectRefusal(out);
      }),
      run(3000),
    );
  });

  it('accepts well-formed batches exactly as sent', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9-]{1,20}$/), goodPoints(NOW).map(nonNegativeZero), (agent, points) => {
        const body = { agent: { id: agent }, points: points.map(({ measurement, tags, fields, time }) => ({ measurement, tags, fields, time })) };
        const out = timed(() => json.check(JSON.parse(JSON.stringify(body)), limits));
        if (!out.ok) throw new Error(JSON.stringify(out.details.list));
        expect(out.batch.points).toEqual(points.map((p) => ({ ...p, agent_id: agent })));
      }),
      run(1000),
    );
  });
});

describe('OTLP mapping under fuzz', () => {
  it('refuses every OTLP/JSON request with a malformed data point or envelope', () => {
    fc.assert(
      fc.property(malformedOtlp(NOW), (body) => {
        // as it arrives over HTTP: through JSON text
        const text = JSON.stringify(body);
        expectRefusal(timed(() => otlp.map(text === undefined ? undefined : JSON.parse(text), limits)));
      }),
      run(2000),
    );
  });

  it('refuses every protobuf request with a malformed data point or envelope', () => {
    fc.assert(
      fc.property(malformedOtlp(NOW, true), (body) => {
        const result = mapProtobuf(encodeMetricsRequest(body as object));
        if (result.decoded) expectRefusal(result.outcome);
      }),
      run(1000),
    );
  });

  it('answers random, cut and corrupted protobuf bytes, and any JSON value, without throwing', () => {
    const valid = goodOtlp(NOW).map((r) => new Uint8Array(encodeMetricsRequest(r)));
    fc.assert(
      fc.property(brokenProtobuf(valid), (bytes) => {
        const result = mapProtobuf(bytes);
        if (result.decoded && !result.outcome.ok) expectRefusal(result.outcome);
      }),
      run(3000),
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything({ maxDepth: 6 }), fc.jsonValue({ maxDepth: 8 })), (body) => {
        const out = timed(() => otlp.map(body, limits));
        if (!out.ok) expectRefusal(out);
      }),
      run(3000),
    );
  });

  it('refuses protobuf nested deeper than the stack without falling over', () => {
    const result = mapProtobuf(deepAttributeRequest(200_000));
    expect(result.decoded && result.outcome.ok).toBe(false);
  });

  it('accepts well-formed requests the same in both encodings', () => {
    fc.assert(
      fc.property(goodOtlp(NOW), (request) => {
        const fromJson = timed(() => otlp.map(JSON.parse(JSON.stringify(request)), limits));
        const fromProtobuf = mapProtobuf(encodeMetricsRequest(request));
        if (!fromJson.ok || !fromProtobuf.decoded || !fromProtobuf.outcome.ok) throw new Error('refused a good request');
        expect(fromProtobuf.outcome.batch.points).toEqual(fromJson.batch.points);
        expect(fromJson.batch.points.length).toBeGreaterThan(0);
      }),
      run(1000),
    );
  });
});

/**
 * An ExportMetricsServiceRequest whose one resource attribute is an AnyValue nested `levels` deep
 * (arrayValue in arrayValue…). Every wrapper only adds a header in front, so the message is the
 * headers, outermost first, then the innermost value.
 */
function deepAttributeRequest(levels: number): Buffer {
  const headers: Buffer[] = [];
  const wrap = (tag: number, len: number) => {
    const h = Buffer.concat([Buffer.from([tag]), varint(len)]);
    headers.push(h);
    return len + h.length;
  };
  const leaf = Buffer.from([0x0a, 0x01, 0x78]); // AnyValue{stringValue: "x"}
  let len = leaf.length;
  for (let i = 0; i < levels; i++) {
    len = wrap(0x0a, len); // ArrayValue{values: [AnyValue]}
    len = wrap(0x2a, len); // AnyValue{arrayValue}
  }
  len = wrap(0x12, len); // KeyValue.value
  headers.push(Buffer.from([0x0a, 0x01, 0x6b])); // KeyValue.key = "k"
  len += 3;
  len = wrap(0x0a, len); // Resource.attributes
  len = wrap(0x0a, len); // ResourceMetrics.resource
  wrap(0x0a, len); // ExportMetricsServiceRequest.resourceMetrics
  return Buffer.concat([...headers.reverse(), leaf]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
