import { aggregate, compare, numericValue, windowOf, type Sample } from './aggregation.js';

const s = (pairs: [number, number][]): Sample[] => pairs.map(([t, v]) => ({ t, v }));

describe('aggregate', () => {
  const samples = s([
    [1_000, 10],
    [2_000, 40],
    [3_000, 20],
    [5_000, 30],
  ]);

  it.each([
    ['last', 30],
    ['avg', 25],
    ['min', 10],
    ['max', 40],
    ['sum', 100],
    ['count', 4],
  ] as const)('%s', (fn, expected) => {
    expect(aggregate(fn, samples)).toBe(expected);
  });

  it('rate is the change per second between the first and the last sample', () => {
    // (30 - 10) / 4 s
    expect(aggregate('rate', samples)).toBe(5);
    expect(aggregate('rate', s([[0, 100], [10_000, 50]]))).toBe(-5);
  });

  it('answers null when the window has no data, except count which is 0', () => {
    for (const fn of ['last', 'avg', 'min', 'max', 'sum', 'rate'] as const) expect(aggregate(fn, [])).toBeNull();
    expect(aggregate('count', [])).toBe(0);
  });

  it('rate needs two samples at different times', () => {
    expect(aggregate('rate', s([[1_000, 5]]))).toBeNull();
    expect(aggregate('rate', s([[1_000, 5], [1_000, 9]]))).toBeNull();
  });
});

describe('compare', () => {
  it.each([
    ['>', 91, 90, true],
    ['>', 90, 90, false],
    ['>=', 90, 90, true],
    ['>=', 89.9, 90, false],
    ['<', 1, 2, true],
    ['<', 2, 2, false],
    ['<=', 2, 2, true],
    ['<=', 2.1, 2, false],
    ['==', 0.1 + 0.2, 0.3, true],
    ['==', 1, 2, false],
    ['!=', 1, 2, true],
    ['!=', 0.1 + 0.2, 0.3, false],
  ] as const)('%s: %d vs %d is %s', (op, a, b, expected) => {
    expect(compare(op, a, b)).toBe(expected);
  });
});

describe('numericValue', () => {
  it('takes numbers, maps booleans to 1/0 and skips strings and non-finite numbers', () => {
    expect(numericValue(4.5)).toBe(4.5);
    expect(numericValue(true)).toBe(1);
    expect(numericValue(false)).toBe(0);
    expect(numericValue('12')).toBeNull();
    expect(numericValue(Number.NaN)).toBeNull();
    expect(numericValue(Number.POSITIVE_INFINITY)).toBeNull();
  });
});

describe('windowOf', () => {
  it('keeps samples with end - window < t <= end', () => {
    const all = s([
      [1_000, 1],
      [2_000, 2],
      [3_000, 3],
      [4_000, 4],
    ]);
    expect(windowOf(all, 3_000, 2_000).map((x) => x.v)).toEqual([2, 3]);
    expect(windowOf(all, 4_000, 60_000).map((x) => x.v)).toEqual([1, 2, 3, 4]);
  });
});
