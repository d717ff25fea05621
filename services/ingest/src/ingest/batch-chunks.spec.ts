import { TelemetryBatchSchema } from '@agentmon/contracts';
import { buildChunks } from './batch-chunks.js';

const header = { batchId: 'b-1', receivedAt: 1000, source: 'json' as const, agents: [{ id: 'agent-7', name: 'Planner ✓' }] };
const point = (i: number) => JSON.stringify({ agent_id: 'agent-7', measurement: 'm', tags: { t: 'ü'.repeat(i % 7) }, fields: { v: i, s: 'x'.repeat(i % 300) }, time: i });

describe('telemetry chunks', () => {
  it('puts a small batch in one message', () => {
    const chunks = buildChunks(header, [point(1), point(2)], 1024 * 1024);
    expect(chunks).toHaveLength(1);
    const batch = TelemetryBatchSchema.parse(JSON.parse(chunks[0]!.toString()));
    expect(batch).toEqual({ batch_id: 'b-1', chunk: 0, chunks: 1, received_at: 1000, source: 'json', agents: header.agents, points: [JSON.parse(point(1)), JSON.parse(point(2))] });
  });

  it('keeps an empty batch (a heartbeat) as one message', () => {
    const [only, ...rest] = buildChunks(header, [], 4096);
    expect(rest).toHaveLength(0);
    expect(TelemetryBatchSchema.parse(JSON.parse(only!.toString())).points).toEqual([]);
  });

  it('splits a large batch into messages under the limit, each a complete batch, losing nothing', () => {
    const encoded = Array.from({ length: 5000 }, (_, i) => point(i));
    const limit = 64 * 1024;
    const chunks = buildChunks(header, encoded, limit);
    expect(chunks.length).toBeGreaterThan(5);
    const batches = chunks.map((c) => {
      expect(c.length).toBeLessThanOrEqual(limit);
      return TelemetryBatchSchema.parse(JSON.parse(c.toString()));
    });
    expect(batches.map((b) => b.chunk)).toEqual(chunks.map((_, i) => i));
    expect(new Set(batches.map((b) => b.chunks))).toEqual(new Set([chunks.length]));
    expect(batches.every((b) => b.batch_id === 'b-1' && b.agents[0]!.id === 'agent-7')).toBe(true);
    expect(batches.flatMap((b) => b.points.map((p) => p.time))).toEqual(encoded.map((_, i) => i));
  });

  it('refuses a point that no message can hold', () => {
    expect(() => buildChunks(header, [point(1), JSON.stringify({ s: 'x'.repeat(10_000) })], 4096)).toThrow(/more than one stream message holds/);
  });
});
