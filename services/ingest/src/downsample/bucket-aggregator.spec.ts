import type { FieldTypesByMeasurement } from '../influx/influx.client.js';
import { BucketAggregator } from './bucket-aggregator.js';

const M = 60_000;
const T = Date.UTC(2026, 10, 29, 10, 0); // a whole minute

const types = (spec: Record<string, Record<string, string | string[]>>): FieldTypesByMeasurement =>
  new Map(Object.entries(spec).map(([m, fields]) => [m, new Map(Object.entries(fields).map(([f, t]) => [f, new Set([t].flat())]))]));

describe('BucketAggregator', () => {
  it('floats: mean, min, max, count and sum per minute, a line per bucket with points, at the bucket start', () => {
    const agg = new BucketAggregator(M, types({ cpu: { v: 'float' } }));
    agg.add({ name: 'cpu', tags: { agent_id: 'a' }, columns: ['time', 'v'], values: [[T + 1000, 1.5], [T + 2000, 2.5], [T + 3 * M, -1]] });
    expect(agg.finish()).toEqual([`cpu,agent_id=a count_v=2i,mean_v=2,min_v=1.5,max_v=2.5,sum_v=4 ${T}`, `cpu,agent_id=a count_v=1i,mean_v=-1,min_v=-1,max_v=-1,sum_v=-1 ${T + 3 * M}`]);
    expect(agg.unsupported).toBeNull();
  });

  it('integers keep their type (mean apart), booleans get count, min and max, strings a count; missing values are skipped', () => {
    const agg = new BucketAggregator(M, types({ m: { i: 'integer', b: 'boolean', s: 'string', f: 'float' } }));
    agg.add({
      name: 'm',
      tags: { agent_id: 'a' },
      columns: ['time', 'b', 'f', 'i', 's'],
      values: [
        [T + 1, true, null, 3, 'hi'],
        [T + 2, false, null, 5, null],
        [T + 3, true, null, null, null],
      ],
    });
    expect(agg.finish()).toEqual([`m,agent_id=a count_b=3i,min_b=false,max_b=true,count_i=2i,mean_i=4,min_i=3i,max_i=5i,sum_i=8i,count_s=1i ${T}`]);
  });

  it('a series in several pieces (chunks) is one series; a new series completes the bucket of the last', () => {
    const agg = new BucketAggregator(M, types({ cpu: { v: 'float' } }));
    agg.add({ name: 'cpu', tags: { agent_id: 'a' }, columns: ['time', 'v'], values: [[T + 1, 1]] });
    expect(agg.ready).toBe(0);
    agg.add({ name: 'cpu', tags: { agent_id: 'a' }, columns: ['time', 'v'], values: [[T + 2, 3]] });
    agg.add({ name: 'cpu', tags: { agent_id: 'b' }, columns: ['time', 'v'], values: [[T + 2, 7]] });
    expect(agg.ready).toBe(1);
    expect(agg.take()).toEqual([`cpu,agent_id=a count_v=2i,mean_v=2,min_v=1,max_v=3,sum_v=4 ${T}`]);
    expect(agg.take()).toEqual([]);
    expect(agg.finish()).toEqual([`cpu,agent_id=b count_v=1i,mean_v=7,min_v=7,max_v=7,sum_v=7 ${T}`]);
  });

  it('tags sorted by key, empty ones (absent from the series) dropped, names escaped as line protocol', () => {
    const agg = new BucketAggregator(M, types({ 'disk io,x': { 'read bytes': 'float' } }));
    agg.add({ name: 'disk io,x', tags: { zone: 'eu west,1', agent_id: 'a=b', rack: '' }, columns: ['time', 'read bytes'], values: [[T + 5, 2]] });
    expect(agg.finish()).toEqual([`disk\\ io\\,x,agent_id=a\\=b,zone=eu\\ west\\,1 count_read\\ bytes=1i,mean_read\\ bytes=2,min_read\\ bytes=2,max_read\\ bytes=2,sum_read\\ bytes=2 ${T}`]);
  });

  it('hour buckets, and times before 1970 fall into the bucket below them', () => {
    const H = 60 * M;
    const agg = new BucketAggregator(H, types({ m: { v: 'float' } }));
    agg.add({ name: 'm', columns: ['time', 'v'], values: [[-1, 1], [T + 59 * M, 2], [T + H, 3]] });
    expect(agg.finish()).toEqual([`m count_v=1i,mean_v=1,min_v=1,max_v=1,sum_v=1 ${-H}`, `m count_v=1i,mean_v=2,min_v=2,max_v=2,sum_v=2 ${T}`, `m count_v=1i,mean_v=3,min_v=3,max_v=3,sum_v=3 ${T + H}`]);
  });

  it.each([
    ['a field InfluxDB holds with two types', types({ m: { v: ['float', 'integer'] } }), [[T, 1]], /2 types/],
    ['a field not among the field keys', types({ m: {} }), [[T, 1]], /not among the field keys/],
    ['a measurement not among the field keys', types({}), [[T, 1]], /not among the field keys/],
    ['an unsigned field', types({ m: { v: 'unsigned' } }), [[T, 1]], /type unsigned/],
    ['an integer beyond 2^53', types({ m: { v: 'integer' } }), [[T, 2 ** 53 + 2]], /not an integer JSON can carry exactly/],
    ['integers whose sum goes beyond 2^53', types({ m: { v: 'integer' } }), [[T, 2 ** 52], [T + 1, 2 ** 52]], /sum beyond 2\^53/],
    ['floats whose sum is no longer finite', types({ m: { v: 'float' } }), [[T, 1.7e308], [T + 1, 1.7e308]], /beyond what a float holds/],
    ['a value of another type than the field keys say', types({ m: { v: 'string' } }), [[T, 1]], /not string/],
  ])('gives the group up to InfluxDB on %s', (_what, fieldTypes, values, reason) => {
    const agg = new BucketAggregator(M, fieldTypes);
    agg.add({ name: 'm', columns: ['time', 'v'], values: values as unknown[][] });
    agg.finish();
    expect(agg.unsupported).toMatch(reason);
  });
});
