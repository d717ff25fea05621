import { durationToMs, type AbsenceCondition, type Condition, type ThresholdCondition } from '@agentmon/contracts';
import { assertNever, compare } from './aggregation.js';

/** A threshold or absence condition, with its position in the rule's condition tree ("0", "0.2.1"). */
export type Leaf =
  | { path: string; kind: 'threshold'; condition: ThresholdCondition; windowMs: number }
  | { path: string; kind: 'absence'; condition: AbsenceCondition; forMs: number };

/** Every threshold and absence condition of a tree, depth first. */
export function leavesOf(condition: Condition, path = '0'): Leaf[] {
  switch (condition.type) {
    case 'threshold':
      return [{ path, kind: 'threshold', condition, windowMs: durationToMs(condition.window) }];
    case 'absence':
      return [{ path, kind: 'absence', condition, forMs: durationToMs(condition.for) }];
    case 'composite':
      return condition.conditions.flatMap((child, i) => leavesOf(child, `${path}.${i}`));
    default:
      return assertNever(condition);
  }
}

/** What the evaluator knows about one (rule, agent) pair at the evaluation time. */
export interface EvaluationInputs {
  /** the aggregated value of a threshold leaf over its window, or null when the window has no data */
  thresholdValue(leaf: Extract<Leaf, { kind: 'threshold' }>): number | null;
  /** whether the data an absence leaf watches has been missing for its `for` (or the agent is offline) */
  isAbsent(leaf: Extract<Leaf, { kind: 'absence' }>): boolean;
}

export interface EvaluationResult {
  matches: boolean;
  /** the observed value that decided the result (first threshold involved), null for pure absence */
  value: number | null;
  /** the threshold it was compared with */
  threshold: number | null;
  /** human-readable account of what was observed, used in summaries */
  detail: string;
}

/**
 * Evaluates a condition tree. A threshold whose window has no data does not match (nothing is known
 * to be wrong); composites combine their children with and/or, nested to any depth.
 */
export function evaluateCondition(condition: Condition, inputs: EvaluationInputs, path = '0'): EvaluationResult {
  switch (condition.type) {
    case 'threshold': {
      const leaf = { path, kind: 'threshold' as const, condition, windowMs: durationToMs(condition.window) };
      const value = inputs.thresholdValue(leaf);
      const subject = `${condition.aggregation}(${condition.measurement}.${condition.field}) over ${condition.window}`;
      if (value === null) {
        return { matches: false, value: null, threshold: condition.value, detail: `${subject}: no data` };
      }
      const matches = compare(condition.op, value, condition.value);
      return {
        matches,
        value,
        threshold: condition.value,
        detail: `${subject} = ${formatNumber(value)} ${matches ? condition.op : negate(condition.op)} ${formatNumber(condition.value)}`,
      };
    }
    case 'absence': {
      const leaf = { path, kind: 'absence' as const, condition, forMs: durationToMs(condition.for) };
      const matches = inputs.isAbsent(leaf);
      const what = condition.measurement ? `${condition.measurement} data` : 'data';
      return {
        matches,
        value: null,
        threshold: null,
        detail: matches ? `no ${what} for ${condition.for}` : `${what} arriving`,
      };
    }
    case 'composite': {
      const results = condition.conditions.map((child, i) => evaluateCondition(child, inputs, `${path}.${i}`));
      const matches = condition.op === 'and' ? results.every((r) => r.matches) : results.some((r) => r.matches);
      // Explain with the children that made the decision: the matching ones when it matches,
      // the failing ones of an `and` (or all of an `or`) when it does not.
      const deciding = matches ? results.filter((r) => r.matches) : condition.op === 'and' ? results.filter((r) => !r.matches) : results;
      const withValue = deciding.find((r) => r.value !== null) ?? results.find((r) => r.value !== null);
      return {
        matches,
        value: withValue?.value ?? null,
        threshold: withValue?.threshold ?? null,
        detail: deciding.map((r) => (deciding.length > 1 ? `(${r.detail})` : r.detail)).join(` ${condition.op} `),
      };
    }
    default:
      return assertNever(condition);
  }
}

const NEGATION: Record<ThresholdCondition['op'], string> = { '>': '<=', '>=': '<', '<': '>=', '<=': '>', '==': '!=', '!=': '==' };
function negate(op: ThresholdCondition['op']): string {
  return NEGATION[op];
}

export function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return String(Math.round(n * 1000) / 1000);
}
