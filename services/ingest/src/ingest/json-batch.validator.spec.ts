import { decodeLines } from '@agentmon/contracts';
import { JsonBatchValidator, pointerToPath } from './json-batch.validator.js';
import { pointLimits } from './point-rules.js';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const DAY = 86_400_000;
const limits = pointLimits(NOW, 90 * DAY, 900_000);
const validator = new JsonBatchValidator(50_000);

const agent = { id: 'agent-7', name: 'Planner 7', type: 'llm-agent', version: '1.4.2', host: 'node-3', region: 'eu-west-1', tags: { env: 'prod' } };
const good = (over: Record<string, unknown> = {}) => ({ measurement: 'agent_metrics', fields: { cpu_usage: 45.2, memory_usage: 67.3 }, tags: { core: 'all' }, ...over });

function refused(body: unknown, l = limits) {
  const out = validator.check(body, l);
  if (out.ok) throw new Error('expected the batch to be refused');
  return out.details;
}
const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path);

describe('JSON batch validation', () => {
  it('accepts the contract example and resolves agent id and times', () => {
    const out = validator.check({ agent, points: [good({ time: '2026-11-27T11:59:00.000Z' }), good({ time: NOW - 1000 }), good()] }, limits);
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.batch.agents).toEqual([agent]);
    expect(out.batch.points.map((p) => p.time)).toEqual([NOW - 60_000, NOW - 1000, NOW]);
    expect(out.batch.points[0]).toEqual({ agent_id: 'agent-7', measurement: 'agent_metrics', tags: { core: 'all' }, fields: { cpu_usage: 45.2, memory_usage: 67.3 }, time: NOW - 60_000 });
    // each point travels as one line of the stream's normal form
    expect(decodeLines(out.batch.encoded[1]!)).toEqual([out.batch.points[1]]);
  });

  it('accepts time offsets other than Z, booleans and strings, and an empty batch', () => {
    const out = validator.check({ agent: { id: 'a' }, points: [{ measurement: 'm', fields: { ok: true, note: 'fine' }, time: '2026-11-27T13:00:00+01:00' }] }, limits);
    expect(out.ok && out.batch.points[0]!.time).toBe(NOW);
    expect(validator.check({ agent: { id: 'a' }, points: [] }, limits).ok).toBe(true);
  });

  it('names every bad point in one answer, whatever is wrong with it, and only the bad ones', () => {
    const d = refused({
      agent,
      points: [
        good(),
        good({ fields: { cpu_usage: 'x'.repeat(70_000) } }),
        good({ fields: { cpu_usage: { nested: 1 } } }),
        good({ fields: { cpu_usage: null, memory_usage: [1] } }),
        good({ fields: {} }),
        { fields: { a: 1 } },
        good({ measurement: '' }),
        good({ time: NOW + 11 * 60_000 }),
        good({ time: NOW - 91 * DAY }),
        good({ time: '2026-11-27 12:00' }),
        good({ time: 1.5 }),
        good({ tags: { agent_id: 'other' } }),
        good({ tags: { core: 5 } }),
        good({ fields: { time: 1 } }),
        'not an object',
        good({ time: '2026-02-30T12:00:00Z' }),
        good({ time: NOW + 9 * 60_000 }),
      ],
    });
    const timeRule = 'must be an RFC 3339 time with a zone or epoch milliseconds';
    expect([...d.list].sort(byPath)).toEqual(
      [
        { path: 'points[1].fields.cpu_usage', reason: 'must be at most 65536 characters' },
        { path: 'points[2].fields.cpu_usage', reason: 'must be a number, a boolean or a string' },
        { path: 'points[3].fields.cpu_usage', reason: 'must be a number, a boolean or a string' },
        { path: 'points[3].fields.memory_usage', reason: 'must be a number, a boolean or a string' },
        { path: 'points[4].fields', reason: 'must hold at least one field' },
        { path: 'points[5].measurement', reason: 'is required' },
        { path: 'points[6].measurement', reason: 'must not be empty' },
        { path: 'points[7].time', reason: 'is more than 10 minutes in the future' },
        { path: 'points[8].time', reason: 'is older than the raw retention' },
        { path: 'points[9].time', reason: timeRule },
        { path: 'points[10].time', reason: timeRule },
        { path: 'points[11].tags.agent_id', reason: 'is set from agent.id and must not be sent as a tag' },
        { path: 'points[12].tags.core', reason: 'must be a string' },
        { path: 'points[13].fields.time', reason: 'is a reserved name' },
        { path: 'points[14]', reason: 'must be an object' },
        { path: 'points[15].time', reason: 'is not a valid date' },
      ].sort(byPath),
    );
    expect([...d.badItems].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(d.message('point')).toMatch(/^15 invalid points; nothing was stored: points\[\d+\]/);
  });

  it('refuses one field with two types in one batch', () => {
    const d = refused({ agent, points: [good({ fields: { cpu_usage: 1 } }), good({ fields: { cpu_usage: 'high' } }), good({ measurement: 'other', fields: { cpu_usage: 'ok' } })] });
    expect(d.list).toEqual([{ path: 'points[1].fields.cpu_usage', reason: 'is a string but an earlier point of this batch has a number for agent_metrics.cpu_usage' }]);
  });

  it('refuses names InfluxDB cannot store and a measurement that would be a comment, and takes the rest', () => {
    const d = refused({
      agent,
      points: [
        good({ measurement: 'bad\nname' }),
        good({ measurement: '#comment' }),
        good({ fields: { 'ends\\': 1 } }),
        good({ tags: { k: 'v\\ x' } }),
        good({ measurement: 'C:\\path with space, comma=ok', tags: { dir: 'C:\\Users', empty: '' }, fields: { 'a b,c=d': 1, 'ünï': 2 } }),
      ],
    });
    expect(d.list.map((x) => x.path).sort()).toEqual(['points[0].measurement', 'points[1].measurement', 'points[2].fields.ends\\', 'points[3].tags.k']);
  });

  it('refuses a bad agent and a body that is not a batch', () => {
    expect(refused({ agent: { id: 'agent 7' }, points: [] }).list).toEqual([{ path: 'agent.id', reason: 'must match [A-Za-z0-9._:-]{1,128}' }]);
    expect(refused({ points: [] }).list).toEqual([{ path: 'agent', reason: 'is required' }]);
    expect(refused([1, 2]).list).toEqual([{ path: '(root)', reason: 'must be an object' }]);
    expect(refused({ agent, points: 'many' }).list).toEqual([{ path: 'points', reason: 'must be an array' }]);
  });

  it('refuses more points than allowed', () => {
    const small = new JsonBatchValidator(3);
    const out = small.check({ agent, points: [good(), good(), good(), good()] }, limits);
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.details.list).toEqual([{ path: 'points', reason: 'must hold at most 3 points' }]);
  });

  it('refuses a point too large for one stream message', () => {
    const d = refused({ agent, points: [good(), good({ fields: { a: 'x'.repeat(60_000), b: 'y'.repeat(60_000) } })] }, pointLimits(NOW, 90 * DAY, 100_000));
    expect(d.list).toEqual([{ path: 'points[1]', reason: expect.stringMatching(/^is \d+ bytes encoded; one point may be at most 100000$/) }]);
  });

  it('lists at most 1000 problems but counts them all', () => {
    const points = Array.from({ length: 1500 }, () => good({ fields: { cpu_usage: [] } }));
    const d = refused({ agent, points });
    expect(d.list).toHaveLength(1000);
    expect(d.total).toBe(1500);
    expect(d.message('point')).toMatch(/^1500 invalid points.*\(1500 problems, the first 1000 listed\)$/);
  });

  it('turns JSON pointers into contract paths', () => {
    expect(pointerToPath('/points/3/fields/cpu_usage')).toBe('points[3].fields.cpu_usage');
    expect(pointerToPath('/points/0/fields/a~1b~0c')).toBe('points[0].fields.a/b~c');
  });
});
