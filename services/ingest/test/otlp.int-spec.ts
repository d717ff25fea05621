/**
 * OTLP/HTTP metrics at `/v1/metrics` with the OpenTelemetry JS SDK as the client, unchanged: the
 * protobuf exporter (@opentelemetry/exporter-metrics-otlp-proto) and the JSON one
 * (@opentelemetry/exporter-metrics-otlp-http), pointed at ingest with the API key header. Gauges,
 * counters, up-down counters and histograms land as measurements and fields, queryable through the
 * historical query RPC. Then the answers the OTLP spec asks for: the response message in the
 * request's encoding, and google.rpc.Status bodies for errors.
 */
import { gzipSync } from 'node:zlib';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { decodeStatus, encodeMetricsRequest } from '../src/otlp/otlp-protobuf.js';
import { IngestHarness, KEYS, eventually } from './support/ingest-harness.js';

type ExportResult = Parameters<Parameters<PushMetricExporter['export']>[1]>[0];
/** ExportResultCode.FAILED of @opentelemetry/core */
const EXPORT_FAILED = 1;
const RUN = Date.now().toString(36);
const h = new IngestHarness('agentmon_int_otlp');
const URL_ = () => `${h.base}/v1/metrics`;

beforeAll(async () => {
  await h.start();
}, 60_000);
afterAll(async () => {
  await h.stop();
});

/** One meter provider whose readings go to `exporter` on `forceFlush()`. */
function sdk(exporter: PushMetricExporter, resource: Record<string, string>) {
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ resource: resourceFromAttributes(resource), readers: [reader] });
  return { provider, meter: provider.getMeter('agentmon-it', '1.0.0') };
}

/** Records the same instruments for each test agent. */
function record(meter: ReturnType<MeterProvider['getMeter']>, prefix: string): void {
  meter.createGauge(`${prefix}.cpu.usage`, { unit: '%' }).record(45.2, { core: 'all' });
  const tasks = meter.createCounter(`${prefix}.tasks.completed`);
  tasks.add(3);
  tasks.add(4, { queue: 'fast lane' });
  meter.createUpDownCounter(`${prefix}.queue.depth`).add(5);
  meter.createObservableGauge(`${prefix}.memory.usage`).addCallback((r) => r.observe(67.3, { kind: 'heap' }));
  const latency = meter.createHistogram(`${prefix}.response.time`, { unit: 'ms', advice: { explicitBucketBoundaries: [10, 100, 1000] } });
  for (const v of [5, 50, 500, 5000]) latency.record(v);
}

async function expectStored(agentId: string, prefix: string, since: number): Promise<void> {
  const to = Date.now() + 1000;
  const q = (measurement: string, fields: string[]) => h.rpc.request('rpc.ingest.metrics.historical.v1', { agent_id: agentId, measurement, fields, from: since, to, interval: '1m' });
  const last = (r: Awaited<ReturnType<typeof q>>, field: string) => r.series.find((s) => s.field === field)?.points.filter(([, v]) => v !== null).at(-1)?.[1];

  const cpu = await eventually(() => q(`${prefix}.cpu.usage`, ['value']), (r) => last(r, 'value') !== undefined);
  expect(last(cpu, 'value')).toBe(45.2);
  expect(last(await q(`${prefix}.memory.usage`, ['value']), 'value')).toBe(67.3);
  expect(last(await q(`${prefix}.queue.depth`, ['value']), 'value')).toBe(5);
  const hist = await q(`${prefix}.response.time`, ['count', 'sum', 'min', 'max', 'le_10', 'le_100', 'le_1000']);
  expect(Object.fromEntries(hist.series.map((s) => [s.field, last(hist, s.field)]))).toEqual({ count: 4, sum: 5555, min: 5, max: 5000, le_10: 1, le_100: 2, le_1000: 3 });

  // tags: the data point's attributes and the resource's (less the agent id and the SDK's)
  const rows = await h.rows(`${prefix}.tasks.completed`, `"agent_id" = '${agentId}'`);
  expect(rows.map((r) => [r.queue ?? null, r.value])).toEqual(expect.arrayContaining([[null, 3], ['fast lane', 4]]));
  expect(rows[0]).toMatchObject({ 'service.name': 'otel-agent', 'deployment.environment.name': 'test' });
  expect(Object.keys(rows[0]!).some((k) => k.startsWith('telemetry.') || k === 'service.instance.id' || k === 'agent.id')).toBe(false);
}

describe('OpenTelemetry JS SDK exporters pointed at ingest', () => {
  it('protobuf exporter (gzip, Authorization: Bearer): every instrument kind becomes queryable', async () => {
    const agentId = `otel-proto-${RUN}`;
    const since = Date.now() - 1000;
    const exporter = new ProtoExporter({ url: URL_(), headers: { Authorization: `Bearer ${KEYS.write}` }, compression: 'gzip' as never });
    const { provider, meter } = sdk(exporter, { 'service.name': 'otel-agent', 'agent.id': agentId, 'deployment.environment.name': 'test' });
    record(meter, 'proto');
    await provider.forceFlush();
    await expectStored(agentId, 'proto', since);
    await provider.shutdown();
  });

  it('JSON exporter (X-API-Key, agent id from service.instance.id): the same points', async () => {
    const agentId = `otel-json-${RUN}`;
    const since = Date.now() - 1000;
    const exporter = new JsonExporter({ url: URL_(), headers: { 'X-API-Key': KEYS.write } });
    const { provider, meter } = sdk(exporter, { 'service.name': 'otel-agent', 'service.instance.id': agentId, 'deployment.environment.name': 'test' });
    record(meter, 'json');
    await provider.forceFlush();
    await expectStored(agentId, 'json', since);
    await provider.shutdown();
  });

  it('an export without an agent id fails (400, not retried) and stores nothing', async () => {
    for (const exporter of [
      new ProtoExporter({ url: URL_(), headers: { Authorization: `Bearer ${KEYS.write}` } }),
      new JsonExporter({ url: URL_(), headers: { Authorization: `Bearer ${KEYS.write}` } }),
    ]) {
      const before = await h.streamMessages();
      const result = await exportOnce(exporter, { 'service.name': 'anonymous' }, (meter) => meter.createGauge(`anonymous.metric.${RUN}`).record(1));
      expect(result.code).toBe(EXPORT_FAILED);
      expect(String(result.error)).toMatch(/Bad Request/);
      // the SDK's error carries the body: the Status message names the problem
      expect(String((result.error as { data?: string }).data ?? '')).toMatch(/agent\.id or service\.instance\.id/);
      expect(await h.streamMessages()).toBe(before);
    }
    expect(await h.count(`anonymous.metric.${RUN}`)).toBe(0);
  });

  it('a key without ingest:write is refused with 403', async () => {
    const exporter = new JsonExporter({ url: URL_(), headers: { 'X-API-Key': KEYS.read } });
    const result = await exportOnce(exporter, { 'agent.id': `otel-403-${RUN}` }, (meter) => meter.createGauge('forbidden.metric').record(1));
    expect(result.code).toBe(EXPORT_FAILED);
    expect(String(result.error)).toMatch(/Forbidden/);
  });
});

/** One collection exported by hand, so that the exporter's result can be looked at. */
async function exportOnce(exporter: PushMetricExporter, resource: Record<string, string>, use: (meter: ReturnType<MeterProvider['getMeter']>) => void): Promise<ExportResult> {
  class ManualReader extends MetricReader {
    protected async onForceFlush(): Promise<void> {}
    protected async onShutdown(): Promise<void> {}
  }
  const reader = new ManualReader();
  const provider = new MeterProvider({ resource: resourceFromAttributes(resource), readers: [reader] });
  use(provider.getMeter('agentmon-it'));
  const { resourceMetrics } = await reader.collect();
  const result = await new Promise<ExportResult>((resolve) => exporter.export(resourceMetrics, resolve));
  await provider.shutdown();
  await exporter.shutdown();
  return result;
}

describe('OTLP/HTTP answers', () => {
  const at = `${BigInt(Date.now() - 5000) * 1_000_000n}`;
  const gaugeRequest = (agentId: string, name: string, value: unknown) => ({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'agent.id', value: { stringValue: agentId } }] },
        scopeMetrics: [{ scope: { name: 'raw' }, metrics: [{ name, gauge: { dataPoints: [{ timeUnixNano: at, asDouble: value }] } }] }],
      },
    ],
  });
  const protobuf = { authorization: `Bearer ${KEYS.write}`, 'content-type': 'application/x-protobuf' };
  const json = { authorization: `Bearer ${KEYS.write}`, 'content-type': 'application/json' };

  it('answers 200 with an ExportMetricsServiceResponse in the request\'s encoding', async () => {
    const name = `raw.ok.${RUN}`;
    const pb = await h.post('/v1/metrics', encodeMetricsRequest(gaugeRequest(`raw-${RUN}`, name, 1.5)), protobuf);
    expect(pb.status).toBe(200);
    expect(pb.headers.get('content-type')).toBe('application/x-protobuf');
    expect((await pb.arrayBuffer()).byteLength).toBe(0);
    const js = await h.post('/v1/metrics', gzipSync(JSON.stringify(gaugeRequest(`raw-${RUN}`, name, 2.5))), { ...json, 'content-encoding': 'gzip' });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await js.json()).toEqual({});
    // an empty request is a success
    expect((await h.post('/v1/metrics', Buffer.alloc(0), protobuf)).status).toBe(200);
    expect((await h.post('/v1/metrics', '{}', json)).status).toBe(200);
    // the same series at the same time: the second write wins in InfluxDB
    expect(await eventually(() => h.rows(name), (r) => r[0]?.value === 2.5)).toEqual([{ time: Number(BigInt(at) / 1_000_000n), agent_id: `raw-${RUN}`, value: 2.5 }]);
  });

  it('answers bad data with 400 and a google.rpc.Status naming each bad data point, protobuf or JSON', async () => {
    const name = `raw.bad.${RUN}`;
    const before = await h.streamMessages();
    const pb = await h.post('/v1/metrics', encodeMetricsRequest(gaugeRequest(`raw-${RUN}`, name, Number.NaN)), protobuf);
    expect(pb.status).toBe(400);
    expect(pb.headers.get('content-type')).toBe('application/x-protobuf');
    const status = decodeStatus(new Uint8Array(await pb.arrayBuffer()));
    expect(status).toEqual({
      code: 3,
      message: expect.stringMatching(/^1 invalid data point; nothing was stored/),
      violations: [{ field: 'resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].asDouble', description: 'must be a finite number' }],
      requestId: pb.headers.get('x-request-id'),
    });

    const js = await h.post('/v1/metrics', JSON.stringify(gaugeRequest(`raw-${RUN}`, name, 'lots')), json);
    expect(js.status).toBe(400);
    expect(await js.json()).toEqual({
      code: 3,
      message: expect.any(String),
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.BadRequest',
          fieldViolations: [{ field: 'resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].asDouble', description: 'must be a number (or "NaN", "Infinity", "-Infinity")' }],
        },
        { '@type': 'type.googleapis.com/google.rpc.RequestInfo', requestId: js.headers.get('x-request-id') },
      ],
    });
    const garbage = await h.post('/v1/metrics', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), protobuf);
    expect(garbage.status).toBe(400);
    expect(decodeStatus(new Uint8Array(await garbage.arrayBuffer())).message).toMatch(/not an ExportMetricsServiceRequest/);
    expect((await h.post('/v1/metrics', '{"resourceMetrics": [', json)).status).toBe(400);
    expect(await h.streamMessages()).toBe(before);
    expect(await h.count(name)).toBe(0);
  });

  it('answers 401, 413 and 415 too, as a Status where the request was OTLP', async () => {
    const unauth = await h.post('/v1/metrics', encodeMetricsRequest(gaugeRequest('x', 'm', 1)), { 'content-type': 'application/x-protobuf' });
    expect(unauth.status).toBe(401);
    expect(decodeStatus(new Uint8Array(await unauth.arrayBuffer()))).toMatchObject({ code: 16, message: expect.stringMatching(/API key required/) });
    const huge = await h.post('/v1/metrics', gzipSync(Buffer.alloc(11 * 1024 * 1024, 0x20)), { ...json, 'content-encoding': 'gzip' });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ code: 8, message: expect.any(String) });
    const text = await h.post('/v1/metrics', 'cpu,agent_id=a v=1', { authorization: `Bearer ${KEYS.write}`, 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    // neither OTLP encoding: the contract's JSON error body
    expect(await text.json()).toMatchObject({ statusCode: 415, message: expect.stringContaining('application/x-protobuf') });
  });
});
