import { TelemetryAgentsSchema, TelemetryLines, encodePoint, type StoredPoint } from '@agentmon/contracts';
import { randomBytes } from 'node:crypto';
import { COMPRESSED_LINES_SUBJECT, LINES_SUBJECT } from '@agentmon/contracts';
import { AGENTS_SUBJECT, agentsMessages, batchMessages, cutAtNewlines, groupLines, joinPieces, packed } from './batch-chunks.js';

const header = { batchId: 'b-1', receivedAt: 1000, source: 'json' as const, agents: [{ id: 'agent-7', name: 'Planner ✓' }] };
const point = (i: number): StoredPoint => ({ agent_id: 'agent-7', measurement: 'm', tags: { t: 'ü'.repeat(1 + (i % 7)) }, fields: { v: i, s: `x${'é'.repeat(i % 300)}` }, time: i });
const text = (data: Uint8Array) => Buffer.from(data).toString('utf8');

describe('stream messages of a batch', () => {
  it('puts a small batch in one lines message and one agents message, with ids for de-duplication', () => {
    const lines = Buffer.from([point(1), point(2)].map(encodePoint).join('\n'));
    const messages = batchMessages(header, [lines], 1024 * 1024);
    expect(messages.map((m) => [m.subject, m.msgId])).toEqual([
      [LINES_SUBJECT, 'b-1:l0'],
      [AGENTS_SUBJECT, 'b-1:a'],
    ]);
    expect(new TelemetryLines(messages[0]!.data).points()).toEqual([point(1), point(2)]);
    expect(TelemetryAgentsSchema.parse(JSON.parse(text(messages[1]!.data)))).toEqual({ batch_id: 'b-1', received_at: 1000, source: 'json', agents: header.agents });
  });

  it('keeps a batch without points (a heartbeat) as its agents message alone', () => {
    const messages = batchMessages(header, joinPieces([new Uint8Array(0)], 4096), 4096);
    expect(messages.map((m) => m.subject)).toEqual([AGENTS_SUBJECT]);
  });

  it('publishes no agents message for a batch that names no agent (all of them announced a moment ago)', () => {
    const lines = Buffer.from([point(1)].map(encodePoint).join('\n'));
    expect(batchMessages({ ...header, agents: [] }, [lines], 4096).map((m) => [m.subject, m.msgId])).toEqual([[LINES_SUBJECT, 'b-1:l0']]);
  });

  it('splits agents that do not fit one message over several, each a complete TelemetryAgents', () => {
    const agents = Array.from({ length: 300 }, (_, i) => ({ id: `agent-${i}`, name: `Agent number ${i}`, tags: { team: 'search' } }));
    const limit = 4096;
    const data = agentsMessages({ ...header, agents }, limit);
    expect(data.length).toBeGreaterThan(3);
    const parsed = data.map((d) => {
      expect(d.length).toBeLessThanOrEqual(limit);
      return TelemetryAgentsSchema.parse(JSON.parse(text(d)));
    });
    expect(parsed.flatMap((p) => p.agents)).toEqual(agents);
    expect(new Set(parsed.map((p) => p.batch_id))).toEqual(new Set(['b-1']));
    const ids = batchMessages({ ...header, agents }, [], limit).map((m) => m.msgId);
    expect(ids).toEqual(data.map((_, n) => `b-1:a${n}`));
  });
});

describe('lines cut into messages', () => {
  const points = Array.from({ length: 5000 }, (_, i) => point(i));
  const lines = points.map(encodePoint);
  const limit = 64 * 1024;

  it('cuts text without newlines inside lines at newlines, under the limit, losing nothing', () => {
    const data = Buffer.from(lines.join('\n'));
    const parts = cutAtNewlines(data, limit);
    expect(parts.length).toBeGreaterThan(5);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(limit);
    expect(parts.flatMap((p) => new TelemetryLines(p).points())).toEqual(points);
    const whole = cutAtNewlines(data, data.length);
    expect(whole.length === 1 && Buffer.compare(whole[0]!, data) === 0).toBe(true);
    expect(() => cutAtNewlines(Buffer.from(`${lines[0]}\n${'x'.repeat(200)}`), 100)).toThrow(/larger than a stream message/);
  });

  it('groups lines (a string may hold a newline) whole into messages under the limit', () => {
    const withNewlines = [...points.slice(0, 2000), { ...point(1), fields: { s: 'two\nlines', v: 1 } }, ...points.slice(2000)];
    const parts = groupLines(withNewlines.map(encodePoint), limit);
    expect(parts.length).toBeGreaterThan(5);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(limit);
    expect(parts.flatMap((p) => new TelemetryLines(p).points())).toEqual(withNewlines);
    expect(groupLines([], limit)).toEqual([]);
    expect(() => groupLines([lines[0]!, 'x'.repeat(200)], 100)).toThrow(/more than one stream message holds/);
  });

  it('joins the pieces of small requests, never cutting one', () => {
    const pieces = Array.from({ length: 100 }, (_, r) => Buffer.from(lines.slice(r * 50, r * 50 + 50).join('\n')));
    const parts = joinPieces([new Uint8Array(0), ...pieces], limit);
    expect(parts.length).toBeGreaterThan(5);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(limit);
    expect(parts.flatMap((p) => new TelemetryLines(p).points())).toEqual(points);
    // every message ends where a piece ends
    const ends = new Set(pieces.map((_, r) => r * 50 + 49));
    let seen = 0;
    for (const p of parts) {
      seen += new TelemetryLines(p).points().length;
      expect(ends.has(seen - 1)).toBe(true);
    }
  });
});

describe('messages as they are stored (packed)', () => {
  const text = Array.from({ length: 2000 }, (_, i) => `agent_metrics,agent_id=agent-${i % 100} cpu_usage=${(i * 7.3) % 100} ${1_764_244_800_000 + i}`).join('\n');
  const large = { subject: LINES_SUBJECT, data: Buffer.from(text), msgId: 'b-1:l0' } as const;

  it('compresses a message of lines from the threshold on, under the same id, to the same lines', () => {
    const out = packed(large, large.data.length);
    expect(out.subject).toBe(COMPRESSED_LINES_SUBJECT);
    expect(out.msgId).toBe('b-1:l0');
    expect(out.data.length).toBeLessThan(large.data.length / 4);
    expect(TelemetryLines.fromCompressed(out.data).points()).toEqual(new TelemetryLines(large.data).points());
  });

  it('leaves smaller messages, agents messages, text that hardly compresses, and everything when turned off, as they are', () => {
    expect(packed(large, large.data.length + 1)).toBe(large);
    expect(packed(large, 0)).toBe(large);
    const agents = { subject: AGENTS_SUBJECT, data: Buffer.from(JSON.stringify({ agents: Array(5000).fill({ id: 'a' }) })), msgId: 'b-1:a' } as const;
    expect(packed(agents, 1)).toBe(agents);
    // (packed looks at the size only: random bytes stand for text that does not compress)
    const noise = { subject: LINES_SUBJECT, data: randomBytes(80_000), msgId: 'b-2:l0' } as const;
    expect(packed(noise, 1)).toBe(noise);
  });
});
