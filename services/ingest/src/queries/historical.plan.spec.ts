import { durationMs, formatDuration, plan } from './historical.service.js';

const NOW = Date.UTC(2026, 10, 27, 12);
const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const RAW = 90 * D;

describe('historical query plan', () => {
  it('chooses the smallest resolution that keeps a series under about 1000 points', () => {
    expect(plan({ from: NOW - 15 * M, to: NOW }, NOW, RAW)).toEqual({ source: 'raw', intervalMs: 1000 });
    expect(plan({ from: NOW - H, to: NOW }, NOW, RAW)).toEqual({ source: 'raw', intervalMs: 5000 });
    expect(plan({ from: NOW - 6 * H, to: NOW }, NOW, RAW)).toEqual({ source: 'raw', intervalMs: 30_000 });
    expect(plan({ from: NOW - D, to: NOW }, NOW, RAW)).toEqual({ source: 'raw', intervalMs: 2 * M });
    expect(plan({ from: NOW - 7 * D, to: NOW }, NOW, RAW)).toEqual({ source: 'agg_1m', intervalMs: 15 * M });
    expect(plan({ from: NOW - 30 * D, to: NOW }, NOW, RAW)).toEqual({ source: 'agg_1h', intervalMs: H });
    expect(plan({ from: NOW - 365 * D, to: NOW }, NOW, RAW)).toEqual({ source: 'agg_1h', intervalMs: 12 * H });
  });

  it('serves ranges past the raw retention from the aggregates, at a minute or more', () => {
    expect(plan({ from: NOW - 100 * D, to: NOW - 99 * D, interval: '10s' }, NOW, RAW)).toEqual({ source: 'agg_1m', intervalMs: M });
    expect(plan({ from: NOW - 100 * D, to: NOW - 99 * D, interval: '90s' }, NOW, RAW)).toEqual({ source: 'agg_1m', intervalMs: 2 * M });
    expect(plan({ from: NOW - 100 * D, to: NOW - 99 * D, interval: '2h' }, NOW, RAW)).toEqual({ source: 'agg_1h', intervalMs: 2 * H });
  });

  it('keeps the caller interval within the raw retention', () => {
    expect(plan({ from: NOW - H, to: NOW, interval: '1m' }, NOW, RAW)).toEqual({ source: 'raw', intervalMs: M });
    expect(plan({ from: NOW - 2 * D, to: NOW, interval: '1h' }, NOW, RAW)).toEqual({ source: 'agg_1m', intervalMs: H });
  });

  it('reads and writes durations', () => {
    expect(durationMs('90s')).toBe(90_000);
    expect(() => durationMs('0m')).toThrow();
    expect(formatDuration(2 * M)).toBe('2m');
    expect(formatDuration(D)).toBe('1d');
    expect(formatDuration(5000)).toBe('5s');
  });
});
