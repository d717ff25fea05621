import { aggregatePlan, fnExpression } from './aggregate.service.js';

const D = 86_400_000;
const RAW = 90 * D;

describe('aggregate query plan', () => {
  it('lets the range choose the source and about 300 points per series', () => {
    expect(aggregatePlan({ timerange: '15m' }, RAW)).toEqual({ source: 'raw', intervalMs: 5_000 });
    expect(aggregatePlan({ timerange: '1h' }, RAW)).toEqual({ source: 'raw', intervalMs: 15_000 });
    expect(aggregatePlan({ timerange: '6h' }, RAW)).toEqual({ source: 'raw', intervalMs: 2 * 60_000 });
    expect(aggregatePlan({ timerange: '24h' }, RAW)).toEqual({ source: 'agg_1m', intervalMs: 5 * 60_000 });
    expect(aggregatePlan({ timerange: '7d' }, RAW)).toEqual({ source: 'agg_1m', intervalMs: 60 * 60_000 });
    expect(aggregatePlan({ timerange: '30d' }, RAW)).toEqual({ source: 'agg_1h', intervalMs: 3 * 3_600_000 });
    expect(aggregatePlan({ timerange: '90d' }, RAW)).toEqual({ source: 'agg_1h', intervalMs: D / 2 });
    expect(aggregatePlan({ timerange: '1y' }, RAW)).toEqual({ source: 'agg_1h', intervalMs: 2 * D });
  });

  it('reads a finer source for an interval the aggregates cannot give, never raw past its retention', () => {
    expect(aggregatePlan({ timerange: '30d', interval: '30m' }, RAW)).toEqual({ source: 'agg_1m', intervalMs: 30 * 60_000 });
    expect(aggregatePlan({ timerange: '24h', interval: '30s' }, RAW)).toEqual({ source: 'raw', intervalMs: 30_000 });
    expect(aggregatePlan({ timerange: '1y', interval: '90s' }, RAW)).toEqual({ source: 'agg_1m', intervalMs: 2 * 60_000 });
    // with a raw retention of 7 days, 30 days of raw points do not exist
    expect(aggregatePlan({ timerange: '30d', interval: '10s' }, 7 * D)).toEqual({ source: 'agg_1m', intervalMs: 60_000 });
  });

  it('computes each function exactly from raw points and from the aggregates as documented', () => {
    expect(fnExpression('mean', 'cpu', 'raw')).toBe('mean("cpu")');
    expect(fnExpression('p95', 'cpu', 'raw')).toBe('percentile("cpu", 95)');
    expect(fnExpression('mean', 'cpu', 'agg_1h')).toBe('sum("sum_cpu") / sum("count_cpu")');
    expect(fnExpression('count', 'cpu', 'agg_1m')).toBe('sum("count_cpu")');
    expect(fnExpression('sum', 'cpu', 'agg_1m')).toBe('sum("sum_cpu")');
    expect(fnExpression('min', 'cpu', 'agg_1m')).toBe('min("min_cpu")');
    expect(fnExpression('max', 'cpu', 'agg_1m')).toBe('max("max_cpu")');
    expect(fnExpression('p95', 'cpu', 'agg_1h')).toBe('percentile("mean_cpu", 95)');
    expect(fnExpression('mean', 'we"ird', 'raw')).toBe('mean("we\\"ird")');
  });
});
