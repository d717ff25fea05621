import type { Condition, StoredPoint } from '@agentmon/contracts';
import { leavesOf, type Leaf } from './condition.js';
import { isAbsentAt, pointTouches, replayBatch, samplesFor, seenTimes, type EvaluableRule } from './point-replay.js';
import type { Sample } from './aggregation.js';

function rule(condition: Condition, updatedAt = 0): EvaluableRule {
  const leaves = leavesOf(condition);
  return {
    condition,
    updatedAt,
    thresholdLeaves: leaves.filter((l): l is Extract<Leaf, { kind: 'threshold' }> => l.kind === 'threshold'),
    absenceLeaves: leaves.filter((l): l is Extract<Leaf, { kind: 'absence' }> => l.kind === 'absence'),
  };
}
const point = (time: number, fields: StoredPoint['fields'], measurement = 'agent_metrics'): StoredPoint => ({
  agent_id: 'a1',
  measurement,
  tags: {},
  fields,
  time,
});

const cpuOver90: Condition = {
  type: 'threshold',
  measurement: 'agent_metrics',
  field: 'cpu_usage',
  aggregation: 'last',
  window: '1m',
  op: '>',
  value: 90,
};

/** What the store would answer: the batch's samples of each threshold leaf, plus earlier ones. */
function windowsFor(r: EvaluableRule, points: StoredPoint[], earlier: Sample[] = []): Map<string, Sample[]> {
  return new Map(r.thresholdLeaves.map((l) => [l.path, [...earlier, ...samplesFor(l, points)].sort((a, b) => a.t - b.t)]));
}

describe('replayBatch', () => {
  it('evaluates at each point: a spike inside a batch is seen, then its clearing', () => {
    const r = rule(cpuOver90);
    const pts = [point(1_000, { cpu_usage: 50 }), point(2_000, { cpu_usage: 95 }), point(3_000, { cpu_usage: 40 })];
    const results = replayBatch(r, pts, windowsFor(r, pts), new Map());
    expect(results.map((x) => [x.t, x.result.matches])).toEqual([
      [1_000, false],
      [2_000, true],
      [3_000, false],
    ]);
    expect(results[1]!.result.value).toBe(95);
  });

  it('reduces a run of agreeing results to its first and last', () => {
    const r = rule(cpuOver90);
    const pts = [1, 2, 3, 4].map((s) => point(s * 1_000, { cpu_usage: 91 + s }));
    const results = replayBatch(r, pts, windowsFor(r, pts), new Map());
    expect(results.map((x) => [x.t, x.result.value])).toEqual([
      [1_000, 92],
      [4_000, 95],
    ]);
  });

  it('uses samples from before the batch for windowed aggregations', () => {
    const avg: Condition = { ...cpuOver90, aggregation: 'avg', window: '10s' } as Condition;
    const r = rule(avg);
    const pts = [point(10_000, { cpu_usage: 100 })];
    // earlier samples: 80 at 5 s (inside the 10 s window), 0 at -1 s (outside)
    const results = replayBatch(r, pts, windowsFor(r, pts, [{ t: -1_000, v: 0 }, { t: 5_000, v: 80 }]), new Map());
    expect(results).toHaveLength(1);
    expect(results[0]!.result.value).toBe(90);
    expect(results[0]!.result.matches).toBe(false); // avg 90 is not > 90
  });

  it('ignores points that feed no condition of the rule', () => {
    const r = rule(cpuOver90);
    const pts = [point(1_000, { tokens_in: 5 }, 'ai_metrics'), point(2_000, { cpu_usage: 'high' })];
    expect(pts.some((p) => pointTouches(r, p))).toBe(false);
    expect(replayBatch(r, pts, windowsFor(r, pts), new Map())).toEqual([]);
  });

  it('absence of one measurement while another arrives', () => {
    const r = rule({ type: 'absence', measurement: 'ai_metrics', for: '1m' });
    const pts = [point(120_000, { cpu_usage: 1 })];
    // the point feeds no ai_metrics condition, so it does not evaluate this rule
    expect(replayBatch(r, pts, new Map(), new Map([['ai_metrics', 0]]))).toEqual([]);
    const mixed = rule({
      type: 'composite',
      op: 'and',
      conditions: [cpuOver90, { type: 'absence', measurement: 'ai_metrics', for: '1m' }],
    });
    const hot = [point(120_000, { cpu_usage: 99 })];
    const [res] = replayBatch(mixed, hot, windowsFor(mixed, hot), new Map([['ai_metrics', 0]]));
    expect(res!.result.matches).toBe(true);
    const [fresh] = replayBatch(mixed, hot, windowsFor(mixed, hot), new Map([['ai_metrics', 100_000]]));
    expect(fresh!.result.matches).toBe(false);
  });
});

describe('isAbsentAt', () => {
  const [leaf] = leavesOf({ type: 'absence', for: '2m' }) as Extract<Leaf, { kind: 'absence' }>[];
  const [measured] = leavesOf({ type: 'absence', measurement: 'ai_metrics', for: '2m' }) as Extract<Leaf, { kind: 'absence' }>[];

  it('holds once no data arrived for `for`', () => {
    expect(isAbsentAt(leaf!, 119_999, 0, 0)).toBe(false);
    expect(isAbsentAt(leaf!, 120_000, 0, 0)).toBe(true);
  });

  it('counts from the rule change at the earliest (never-seen agents too)', () => {
    expect(isAbsentAt(leaf!, 200_000, undefined, 100_000)).toBe(false);
    expect(isAbsentAt(leaf!, 220_000, undefined, 100_000)).toBe(true);
    expect(isAbsentAt(leaf!, 200_000, 0, 100_000)).toBe(false);
  });

  it('an offline agent makes a measurement-less absence hold at once', () => {
    expect(isAbsentAt(leaf!, 1_000, 900, 0, true)).toBe(true);
    expect(isAbsentAt(measured!, 1_000, 900, 0, true)).toBe(false);
  });
});

describe('seenTimes', () => {
  it('keeps the latest time per measurement and overall', () => {
    const m = seenTimes([point(5, {}), point(9, {}, 'ai_metrics'), point(7, {})]);
    expect(Object.fromEntries(m)).toEqual({ agent_metrics: 7, ai_metrics: 9, '*': 9 });
  });
});
