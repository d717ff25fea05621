import { decodeLines } from '@agentmon/contracts';
import { pointLimits } from '../ingest/point-rules.js';
import { OtlpMetricsMapper, anyValueText, nanosToMs, quantileField } from './otlp-metrics.mapper.js';
import { decodeMetricsRequest, decodeStatus, encodeMetricsRequest, encodeStatus, metricsResponseBytes, statusJson } from './otlp-protobuf.js';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const DAY = 86_400_000;
const limits = pointLimits(NOW, 90 * DAY, 900_000);
const ns = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
const T = ns(NOW - 60_000);
const mapper = new OtlpMetricsMapper(50_000);

const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
const resource = (...extra: object[]) => ({
  attributes: [str('service.name', 'planner'), str('service.instance.id', 'agent-7'), str('telemetry.sdk.language', 'nodejs'), { key: 'process.pid', value: { intValue: '4242' } }, ...extra],
});
function request(metrics: object[], res: object = resource()) {
  return { resourceMetrics: [{ resource: res, scopeMetrics: [{ scope: { name: 'agent', version: '1.0.0' }, metrics }] }] };
}
const gauge = (name: string, points: object[]) => ({ name, unit: '1', gauge: { dataPoints: points } });

function mapped(body: unknown) {
  const out = mapper.map(body, limits);
  if (!out.ok) throw new Error(`refused: ${JSON.stringify(out.details.list)}`);
  return out;
}
function refused(body: unknown) {
  const out = mapper.map(body, limits);
  if (out.ok) throw new Error('expected a refusal');
  return out.details;
}

describe('OTLP metrics mapping', () => {
  it('maps gauges and sums to field `value`, with resource and data point attributes as tags', () => {
    const out = mapped(
      request([
        gauge('agent.cpu.usage', [{ attributes: [str('core', 'all')], timeUnixNano: T, asDouble: 45.2 }]),
        { name: 'tasks.completed', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ timeUnixNano: T, asInt: '17', attributes: [str('service.name', 'override')] }] } },
      ]),
    );
    expect(out.batch.source).toBe('otlp');
    expect(out.batch.agents).toEqual([{ id: 'agent-7', name: 'planner' }]);
    expect(out.batch.points).toEqual([
      { agent_id: 'agent-7', measurement: 'agent.cpu.usage', tags: { 'service.name': 'planner', core: 'all' }, fields: { value: 45.2 }, time: NOW - 60_000 },
      // the data point's attribute wins over the resource's
      { agent_id: 'agent-7', measurement: 'tasks.completed', tags: { 'service.name': 'override' }, fields: { value: 17 }, time: NOW - 60_000 },
    ]);
    expect(out.paths).toEqual(['resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0]', 'resourceMetrics[0].scopeMetrics[0].metrics[1].sum.dataPoints[0]']);
    expect(decodeLines(out.batch.encoded[0]!)).toEqual([out.batch.points[0]]);
  });

  it('prefers agent.id over service.instance.id, and fills the agent record from the resource', () => {
    const res = { attributes: [str('agent.id', 'planner-1'), str('service.instance.id', 'uuid-1'), str('service.version', '1.4.2'), str('host.name', 'node-3'), str('cloud.region', 'eu-west-1')] };
    const out = mapped(request([gauge('m', [{ asDouble: 1, timeUnixNano: T }])], res));
    expect(out.batch.agents).toEqual([{ id: 'planner-1', version: '1.4.2', host: 'node-3', region: 'eu-west-1' }]);
    // neither agent.id nor service.instance.id (a new one for every process start) becomes a tag
    expect(out.batch.points[0]!.tags).toEqual({ 'service.version': '1.4.2', 'host.name': 'node-3', 'cloud.region': 'eu-west-1' });
  });

  it('maps histograms to count, sum, min, max and cumulative le_<bound> counts', () => {
    const out = mapped(
      request([
        {
          name: 'http.server.duration',
          histogram: {
            aggregationTemporality: 2,
            dataPoints: [{ timeUnixNano: T, count: '10', sum: 1234.5, min: 3, max: 700, explicitBounds: [10, 100, 500.5], bucketCounts: ['1', '4', '3', '2'] }],
          },
        },
      ]),
    );
    expect(out.batch.points[0]!.fields).toEqual({ count: 10, sum: 1234.5, min: 3, max: 700, le_10: 1, le_100: 5, 'le_500.5': 8 });
  });

  it('maps exponential histograms (buckets dropped) and summaries (quantiles as pNN)', () => {
    const out = mapped(
      request([
        { name: 'latency.exp', exponentialHistogram: { dataPoints: [{ timeUnixNano: T, count: '4', sum: 10, scale: 3, zeroCount: '1', positive: { offset: 2, bucketCounts: ['1', '2'] }, min: 0, max: 6 }] } },
        {
          name: 'latency.summary',
          summary: { dataPoints: [{ timeUnixNano: T, count: '100', sum: 250, quantileValues: [{ quantile: 0.5, value: 2 }, { quantile: 0.99, value: 9 }, { quantile: 0.999, value: 12 }, { quantile: 1, value: 15 }, { quantile: 0 }] }] },
        },
      ]),
    );
    expect(out.batch.points.map((p) => p.fields)).toEqual([
      { count: 4, sum: 10, min: 0, max: 6, zero_count: 1 },
      { count: 100, sum: 250, p50: 2, p99: 9, p99_9: 12, p100: 15, p0: 0 },
    ]);
    expect([0.5, 0.95, 0.999, 0.25].map(quantileField)).toEqual(['p50', 'p95', 'p99_9', 'p25']);
  });

  it('takes the time of receipt for a missing or zero time, skips points flagged "no recorded value"', () => {
    const out = mapped(request([gauge('m', [{ asDouble: 1 }, { asDouble: 2, timeUnixNano: '0' }, { asDouble: 3, timeUnixNano: T, flags: 1 }, { asDouble: 4, timeUnixNano: Number(T) }])]));
    expect(out.batch.points.map((p) => [p.fields.value, p.time])).toEqual([
      [1, NOW],
      [2, NOW],
      [4, NOW - 60_000],
    ]);
    expect(nanosToMs('1700000000123456789', 0)).toBe(1_700_000_000_123);
    expect(nanosToMs('999', 5)).toBe(0);
  });

  it('accepts null as "not set" and ignores unknown fields, as proto3 JSON says', () => {
    const out = mapped({
      resourceMetrics: [{ resource: resource(), schemaUrl: null, futureField: { x: 1 }, scopeMetrics: [{ scope: null, metrics: [{ name: 'm', description: null, gauge: { dataPoints: [{ asDouble: '2.5', asInt: null, timeUnixNano: T, attributes: null, newThing: true }] } }] }] }],
    });
    expect(out.batch.points[0]!.fields).toEqual({ value: 2.5 });
  });

  it('turns attribute values into tag text', () => {
    expect(anyValueText({ boolValue: true })).toBe('true');
    expect(anyValueText({ intValue: '-12' })).toBe('-12');
    expect(anyValueText({ doubleValue: 1.5 })).toBe('1.5');
    expect(anyValueText({ arrayValue: { values: [{ stringValue: 'a' }, { intValue: 2 }] } })).toBe('["a","2"]');
    expect(anyValueText({ kvlistValue: { values: [{ key: 'k', value: { boolValue: false } }] } })).toBe('{"k":"false"}');
    expect(anyValueText({})).toBeNull();
  });

  it('answers an empty request and empty envelopes with nothing to store', () => {
    expect(mapped({}).batch).toMatchObject({ points: [], agents: [] });
    expect(mapped({ resourceMetrics: [] }).batch.points).toEqual([]);
    // an envelope that names its agent but has no points is a heartbeat
    expect(mapped(request([])).batch).toMatchObject({ points: [], agents: [{ id: 'agent-7' }] });
    // without an agent id and without points there is nothing to say
    expect(mapped({ resourceMetrics: [{ resource: { attributes: [] }, scopeMetrics: [] }] }).batch.agents).toEqual([]);
  });

  it('refuses the whole request, naming every bad data point by its OTLP/JSON path', () => {
    const p = 'resourceMetrics[0].scopeMetrics[0].metrics';
    const d = refused(
      request([
        gauge('ok', [{ asDouble: 1, timeUnixNano: T }]),
        gauge('m', [
          { asDouble: 'NaN', timeUnixNano: T }, // 0: not storable
          { timeUnixNano: T }, // 1: no value
          { asDouble: 1, timeUnixNano: ns(NOW + 3_600_000) }, // 2: future
          { asDouble: 1, timeUnixNano: T, attributes: [str('time', 'x')] }, // 3: reserved tag
          { asDouble: 1, timeUnixNano: T, attributes: [str('k', 'a\nb')] }, // 4: control character
          { asDouble: 'abc', timeUnixNano: T }, // 5: not a double (schema)
          { asDouble: 1, timeUnixNano: '-5' }, // 6: not a uint64 (schema)
          { asDouble: 1, timeUnixNano: T, attributes: [str('dup', 'a'), str('dup', 'b')] }, // 7: duplicate key
        ]),
        { name: 'nodata' },
        { name: 'bad\u0001name', gauge: { dataPoints: [{ asDouble: 1 }] } },
        { name: 'h', histogram: { dataPoints: [{ count: '3', explicitBounds: [1, 2], bucketCounts: ['1', '2'] }, { count: '3', explicitBounds: [2, 1], bucketCounts: ['1', '1', '1'] }] } },
        { name: 's', summary: { dataPoints: [{ count: '1', sum: 1, quantileValues: [{ quantile: 1.5, value: 1 }] }] } },
        { name: 'x', sum: { aggregationTemporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE', dataPoints: [{ asInt: '1' }] } },
      ]),
    );
    const reasons = Object.fromEntries(d.list.map((x) => [x.path, x.reason]));
    expect(reasons).toEqual({
      [`${p}[1].gauge.dataPoints[0].asDouble`]: 'must be a finite number',
      [`${p}[1].gauge.dataPoints[1]`]: 'has no value (asDouble or asInt)',
      [`${p}[1].gauge.dataPoints[2].timeUnixNano`]: 'is more than 10 minutes in the future',
      [`${p}[1].gauge.dataPoints[3].attributes[0].key`]: 'time is a reserved name',
      [`${p}[1].gauge.dataPoints[4].attributes[0].value`]: expect.stringContaining('control characters'),
      [`${p}[1].gauge.dataPoints[5].asDouble`]: 'must be a number (or "NaN", "Infinity", "-Infinity")',
      [`${p}[1].gauge.dataPoints[6].timeUnixNano`]: 'must be an unsigned 64-bit integer (a decimal string or a number)',
      [`${p}[1].gauge.dataPoints[7].attributes[1].key`]: '"dup" appears twice',
      [`${p}[2]`]: 'has no data (one of gauge, sum, histogram, exponentialHistogram, summary)',
      [`${p}[3].name`]: expect.stringContaining('control characters'),
      [`${p}[4].histogram.dataPoints[0].bucketCounts`]: 'must hold one count more than explicitBounds (3, not 2)',
      [`${p}[4].histogram.dataPoints[1].explicitBounds[1]`]: 'must be finite and larger than the bound before it',
      [`${p}[5].summary.dataPoints[0].quantileValues[0].quantile`]: 'must be between 0 and 1',
      [`${p}[6].sum.aggregationTemporality`]: 'must be 0, 1 or 2 (OTLP/JSON encodes enums as integers)',
    });
    expect(d.message('data point')).toMatch(/^\d+ invalid data points; nothing was stored/);
  });

  it('refuses data points without an agent id, and an agent id that is not one', () => {
    const none = refused(request([gauge('m', [{ asDouble: 1 }])], { attributes: [str('service.name', 'x')] }));
    expect(none.list).toEqual([{ path: 'resourceMetrics[0].resource.attributes', reason: 'must name the agent: agent.id or service.instance.id (matching [A-Za-z0-9._:-]{1,128})' }]);
    const bad = refused(request([gauge('m', [{ asDouble: 1 }])], { attributes: [str('agent.id', 'has space'), str('service.instance.id', 'fine')] }));
    expect(bad.list).toEqual([{ path: 'resourceMetrics[0].resource.attributes[0].value', reason: 'agent.id names the agent and must be a string matching [A-Za-z0-9._:-]{1,128}' }]);
  });

  it('refuses shapes that are not an ExportMetricsServiceRequest', () => {
    expect(refused([]).list).toEqual([{ path: '(root)', reason: 'must be an object' }]);
    expect(refused({ resourceMetrics: {} }).list).toEqual([{ path: 'resourceMetrics', reason: 'must be an array' }]);
    expect(refused({ resourceMetrics: [null] }).list).toEqual([{ path: 'resourceMetrics[0]', reason: 'must be an object' }]);
    const deep = { arrayValue: { values: [{ arrayValue: { values: [{ arrayValue: { values: [{ arrayValue: { values: [{ arrayValue: { values: [] } }] } }] } }] } }] } };
    const d = refused(request([gauge('m', [{ asDouble: 1, attributes: [{ key: 'deep', value: deep }] }])]));
    expect(d.list[0]!.reason).toBe('nests more than 4 levels deep');
  });

  it('refuses more data points than allowed', () => {
    const small = new OtlpMetricsMapper(2);
    const out = small.map(request([gauge('m', [{ asDouble: 1 }, { asDouble: 2 }, { asDouble: 3 }])]), limits);
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.details.list).toContainEqual({ path: 'resourceMetrics', reason: 'must hold at most 2 data points' });
  });
});

describe('OTLP protobuf', () => {
  it('decodes a binary request into the proto3 JSON form the mapper reads, 64-bit integers exact', () => {
    const json = request([
      gauge('g', [{ attributes: [str('k', 'v'), { key: 'n', value: { intValue: '-9007199254740993' } }], timeUnixNano: `${T.slice(0, -6)}123456`, asDouble: 0 }]),
      { name: 'c', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ timeUnixNano: T, asInt: '9007199254740993' }] } },
      { name: 'h', histogram: { dataPoints: [{ timeUnixNano: T, count: '3', sum: 1.5, explicitBounds: [1], bucketCounts: ['1', '2'] }] } },
    ]);
    const decoded = decodeMetricsRequest(encodeMetricsRequest(json)) as typeof json & Record<string, never>;
    const metrics = (decoded as unknown as { resourceMetrics: { scopeMetrics: { metrics: Record<string, { dataPoints: Record<string, unknown>[] }>[] }[] }[] }).resourceMetrics[0]!.scopeMetrics[0]!.metrics;
    expect(metrics[0]!.gauge!.dataPoints[0]).toEqual({ attributes: [str('k', 'v'), { key: 'n', value: { intValue: '-9007199254740993' } }], timeUnixNano: `${T.slice(0, -6)}123456`, asDouble: 0 });
    expect(metrics[1]!.sum!.dataPoints[0]!.asInt).toBe('9007199254740993');
    expect(mapped(decoded).batch.points.map((p) => p.fields)).toEqual([{ value: 0 }, { value: 9007199254740992 }, { count: 3, sum: 1.5, le_1: 1 }]);
  });

  it('refuses bytes that are not a protobuf message', () => {
    expect(() => decodeMetricsRequest(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]))).toThrow();
    expect(() => decodeMetricsRequest(Buffer.from([0x0f]))).toThrow();
    expect(decodeMetricsRequest(Buffer.alloc(0))).toEqual({});
  });

  it('answers with an empty ExportMetricsServiceResponse and errors as google.rpc.Status', () => {
    expect(metricsResponseBytes().length).toBe(0);
    const status = { code: 3, message: '2 invalid data points', violations: [{ field: 'resourceMetrics[0]', description: 'is bad' }], requestId: 'req-1' };
    expect(decodeStatus(encodeStatus(status))).toEqual(status);
    expect(statusJson(status)).toEqual({
      code: 3,
      message: '2 invalid data points',
      details: [
        { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'resourceMetrics[0]', description: 'is bad' }] },
        { '@type': 'type.googleapis.com/google.rpc.RequestInfo', requestId: 'req-1' },
      ],
    });
  });
});
