import type { Condition } from '@agentmon/contracts';
import { leavesOf, type Leaf } from './condition.js';
import type { EvaluableRule } from './point-replay.js';
import { ANY_MEASUREMENT, watchPlan } from './watch-plan.js';

function rule(condition: Condition): EvaluableRule {
  const leaves = leavesOf(condition);
  return {
    condition,
    updatedAt: 0,
    thresholdLeaves: leaves.filter((l): l is Extract<Leaf, { kind: 'threshold' }> => l.kind === 'threshold'),
    absenceLeaves: leaves.filter((l): l is Extract<Leaf, { kind: 'absence' }> => l.kind === 'absence'),
  };
}
const threshold = (measurement: string): Condition => ({ type: 'threshold', measurement, field: 'v', aggregation: 'last', window: '1m', op: '>', value: 1 });

describe('watchPlan', () => {
  it('with no rules, nothing is decoded or recorded', () => {
    expect(watchPlan([])).toEqual({ idle: true, measurements: new Set(), seenKeys: new Set(), watchesAnyData: false });
  });

  it('threshold rules decode their measurements and record no last-seen time', () => {
    const plan = watchPlan([rule(threshold('cpu')), rule({ type: 'composite', op: 'or', conditions: [threshold('mem'), threshold('cpu')] })]);
    expect(plan).toEqual({ idle: false, measurements: new Set(['cpu', 'mem']), seenKeys: new Set(), watchesAnyData: false });
  });

  it('an absence condition on a measurement decodes it and records its last-seen time only', () => {
    const plan = watchPlan([rule(threshold('cpu')), rule({ type: 'absence', measurement: 'disk', for: '5m' })]);
    expect(plan).toEqual({ idle: false, measurements: new Set(['cpu', 'disk']), seenKeys: new Set(['disk']), watchesAnyData: false });
  });

  it('a measurement-less absence condition watches every line and any data', () => {
    const plan = watchPlan([rule(threshold('cpu')), rule({ type: 'composite', op: 'and', conditions: [threshold('mem'), { type: 'absence', for: '5m' }] })]);
    expect(plan).toEqual({ idle: false, measurements: undefined, seenKeys: new Set([ANY_MEASUREMENT]), watchesAnyData: true });
  });
});
