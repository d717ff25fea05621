import type { Condition, ThresholdCondition } from '@agentmon/contracts';
import { evaluateCondition, leavesOf, type EvaluationInputs } from './condition.js';

const cpu = (op: ThresholdCondition['op'], value: number): ThresholdCondition => ({
  type: 'threshold',
  measurement: 'agent_metrics',
  field: 'cpu_usage',
  aggregation: 'avg',
  window: '1m',
  op,
  value,
});
const mem = (op: ThresholdCondition['op'], value: number): ThresholdCondition => ({
  type: 'threshold',
  measurement: 'agent_metrics',
  field: 'memory_usage',
  aggregation: 'max',
  window: '5m',
  op,
  value,
});

/** Inputs where each field has a fixed aggregated value and absence is decided per measurement. */
function inputs(values: Record<string, number | null>, absent: Record<string, boolean> = {}): EvaluationInputs {
  return {
    thresholdValue: (leaf) => values[leaf.condition.field] ?? null,
    isAbsent: (leaf) => absent[leaf.condition.measurement ?? '*'] ?? false,
  };
}

describe('evaluateCondition', () => {
  it('threshold: compares the aggregated value and explains it', () => {
    const r = evaluateCondition(cpu('>', 90), inputs({ cpu_usage: 95.5 }));
    expect(r).toEqual({
      matches: true,
      value: 95.5,
      threshold: 90,
      detail: 'avg(agent_metrics.cpu_usage) over 1m = 95.5 > 90',
    });
    const clear = evaluateCondition(cpu('>', 90), inputs({ cpu_usage: 50 }));
    expect(clear.matches).toBe(false);
    expect(clear.detail).toBe('avg(agent_metrics.cpu_usage) over 1m = 50 <= 90');
  });

  it('threshold without data does not match', () => {
    const r = evaluateCondition(cpu('<', 10), inputs({}));
    expect(r.matches).toBe(false);
    expect(r.value).toBeNull();
    expect(r.detail).toContain('no data');
  });

  it('and: all children must match; or: any child', () => {
    const and: Condition = { type: 'composite', op: 'and', conditions: [cpu('>', 90), mem('>', 80)] };
    const or: Condition = { type: 'composite', op: 'or', conditions: [cpu('>', 90), mem('>', 80)] };
    expect(evaluateCondition(and, inputs({ cpu_usage: 95, memory_usage: 85 })).matches).toBe(true);
    expect(evaluateCondition(and, inputs({ cpu_usage: 95, memory_usage: 50 })).matches).toBe(false);
    expect(evaluateCondition(or, inputs({ cpu_usage: 10, memory_usage: 85 })).matches).toBe(true);
    expect(evaluateCondition(or, inputs({ cpu_usage: 10, memory_usage: 50 })).matches).toBe(false);
  });

  it('a matching or reports the value of the child that matched', () => {
    const or: Condition = { type: 'composite', op: 'or', conditions: [cpu('>', 90), mem('>', 80)] };
    const r = evaluateCondition(or, inputs({ cpu_usage: 10, memory_usage: 85 }));
    expect(r.value).toBe(85);
    expect(r.threshold).toBe(80);
    expect(r.detail).toBe('max(agent_metrics.memory_usage) over 5m = 85 > 80');
  });

  it('evaluates nested composites', () => {
    // cpu > 90 and (mem > 80 or no ai_metrics for 2m)
    const nested: Condition = {
      type: 'composite',
      op: 'and',
      conditions: [
        cpu('>', 90),
        { type: 'composite', op: 'or', conditions: [mem('>', 80), { type: 'absence', measurement: 'ai_metrics', for: '2m' }] },
      ],
    };
    expect(evaluateCondition(nested, inputs({ cpu_usage: 95, memory_usage: 10 }, { ai_metrics: true })).matches).toBe(true);
    expect(evaluateCondition(nested, inputs({ cpu_usage: 95, memory_usage: 10 }, { ai_metrics: false })).matches).toBe(false);
    expect(evaluateCondition(nested, inputs({ cpu_usage: 95, memory_usage: 90 }, { ai_metrics: false })).matches).toBe(true);
    expect(evaluateCondition(nested, inputs({ cpu_usage: 50, memory_usage: 90 }, { ai_metrics: true })).matches).toBe(false);
  });

  it('absence: matches when the input says the data is missing', () => {
    const r = evaluateCondition({ type: 'absence', for: '2m' }, inputs({}, { '*': true }));
    expect(r).toEqual({ matches: true, value: null, threshold: null, detail: 'no data for 2m' });
    expect(evaluateCondition({ type: 'absence', measurement: 'ai_metrics', for: '2m' }, inputs({}, { ai_metrics: false })).matches).toBe(false);
  });
});

describe('leavesOf', () => {
  it('lists threshold and absence leaves depth first with their paths and durations', () => {
    const c: Condition = {
      type: 'composite',
      op: 'or',
      conditions: [cpu('>', 1), { type: 'composite', op: 'and', conditions: [mem('<', 2), { type: 'absence', for: '30s' }] }],
    };
    const leaves = leavesOf(c);
    expect(leaves.map((l) => [l.path, l.kind])).toEqual([
      ['0.0', 'threshold'],
      ['0.1.0', 'threshold'],
      ['0.1.1', 'absence'],
    ]);
    expect(leaves[0]).toMatchObject({ windowMs: 60_000 });
    expect(leaves[1]).toMatchObject({ windowMs: 300_000 });
    expect(leaves[2]).toMatchObject({ forMs: 30_000 });
  });

  it('a single threshold is leaf "0"', () => {
    expect(leavesOf(cpu('>', 1)).map((l) => l.path)).toEqual(['0']);
  });
});
