import type { ThresholdCondition } from '@agentmon/contracts';

/** One observation of a field: epoch-ms time and a numeric value. */
export interface Sample {
  t: number;
  v: number;
}

export type Aggregation = ThresholdCondition['aggregation'];
export type ComparisonOp = ThresholdCondition['op'];

/**
 * A field value as a number for evaluation: numbers as they are, booleans as 1/0. Strings (and
 * non-finite numbers) cannot be compared with a threshold and are skipped.
 */
export function numericValue(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return null;
}

/**
 * Aggregates the samples of a window (sorted by time, oldest first). Answers null when the window
 * has too little data to say anything: no sample at all, or fewer than two for `rate`.
 *
 * `rate` is the change per second between the first and the last sample of the window
 * ((last - first) / seconds between them), which suits counters such as tasks_completed.
 */
export function aggregate(fn: Aggregation, samples: readonly Sample[]): number | null {
  if (fn === 'count') return samples.length;
  if (samples.length === 0) return null;
  switch (fn) {
    case 'last':
      return samples[samples.length - 1]!.v;
    case 'sum':
      return samples.reduce((acc, s) => acc + s.v, 0);
    case 'avg':
      return samples.reduce((acc, s) => acc + s.v, 0) / samples.length;
    case 'min':
      return samples.reduce((acc, s) => Math.min(acc, s.v), Number.POSITIVE_INFINITY);
    case 'max':
      return samples.reduce((acc, s) => Math.max(acc, s.v), Number.NEGATIVE_INFINITY);
    case 'rate': {
      if (samples.length < 2) return null;
      const first = samples[0]!;
      const last = samples[samples.length - 1]!;
      const seconds = (last.t - first.t) / 1000;
      if (seconds <= 0) return null;
      return (last.v - first.v) / seconds;
    }
    default:
      return assertNever(fn);
  }
}

/** Float equality for `==` and `!=`: values within a relative 1e-9 count as equal. */
function nearlyEqual(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

export function compare(op: ComparisonOp, actual: number, threshold: number): boolean {
  switch (op) {
    case '>':
      return actual > threshold;
    case '>=':
      return actual >= threshold;
    case '<':
      return actual < threshold;
    case '<=':
      return actual <= threshold;
    case '==':
      return nearlyEqual(actual, threshold);
    case '!=':
      return !nearlyEqual(actual, threshold);
    default:
      return assertNever(op);
  }
}

/** Samples with lo < t <= hi, from a time-sorted list. */
export function windowOf(samples: readonly Sample[], hi: number, windowMs: number): Sample[] {
  const lo = hi - windowMs;
  return samples.filter((s) => s.t > lo && s.t <= hi);
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${String(value)}`);
}
