import { escapeKey, escapeMeasurement } from '@agentmon/contracts';
import type { FieldTypesByMeasurement, InfluxSeries } from '../influx/influx.client.js';

type Kind = 'float' | 'integer' | 'boolean' | 'string';
const KINDS = new Set<string>(['float', 'integer', 'boolean', 'string']);

/** One field of one series over one bucket. */
interface FieldAcc {
  kind: Kind;
  count: number;
  sum: number;
  min: number | boolean;
  max: number | boolean;
}

/**
 * The aggregates of raw points computed in the ingest service, in place of InfluxDB's
 * `SELECT mean(*), min(*), max(*), count(*), sum(*) INTO … GROUP BY time(…), *`, and written the way
 * that statement writes them: per series (its tags kept, empty ones dropped) and bucket, fields
 * `mean_<f>` (float), `min_<f>` and `max_<f>` (the field's type; booleans too), `count_<f>` (integer)
 * and `sum_<f>` (the field's type); strings get `count_<f>` only; a bucket without points gets no
 * point. InfluxDB computes each function by reading the points again (five reads of every point, and
 * per series and function the cost of a cursor); here they are read once, as `SELECT *`
 * (docs/benchmarks.md, item 45).
 *
 * Series arrive as InfluxDB answers `SELECT * … GROUP BY *` with `epoch=ms`, in time order, a series
 * possibly split over several chunks (consecutive pieces with the same name and tags). A bucket is
 * complete, and becomes a line, when its series moves past it or ends.
 *
 * The JSON answer does not tell an integer from a float, so each field's type comes from `types`. A
 * field InfluxDB holds with more than one type (shards written differently), an unknown field, or an
 * integer beyond 2^53 (JSON numbers lose it) makes the aggregator give up (`unsupported`), and the
 * caller leaves that group to InfluxDB's own statement, which is exact in those cases.
 */
export class BucketAggregator {
  /** the lines of the completed buckets not yet taken */
  private lines: string[] = [];
  /** why these points must be left to InfluxDB's statement; null while they need not */
  unsupported: string | null = null;

  private seriesKey: string | null = null;
  /** escaped measurement and tags: the start of every line of the current series */
  private head = '';
  private measurement = '';
  private bucket = 0;
  private fields = new Map<string, FieldAcc>();

  constructor(
    private readonly bucketMs: number,
    /** the raw measurements' field types (InfluxClient.fieldTypes) */
    private readonly types: FieldTypesByMeasurement,
  ) {}

  /** One series, or one piece of it, of the answer. */
  add(series: InfluxSeries): void {
    if (this.unsupported) return;
    const key = seriesKeyOf(series);
    if (key !== this.seriesKey) {
      this.flush();
      this.seriesKey = key;
      this.measurement = series.name;
      this.head = headOf(series);
    }
    const columns = series.columns;
    const timeAt = columns.indexOf('time');
    if (timeAt < 0) {
      this.unsupported = 'the answer has no time column';
      return;
    }
    for (const row of series.values ?? []) {
      const t = row[timeAt];
      if (typeof t !== 'number') {
        this.unsupported = 'a time that is not in epoch milliseconds';
        return;
      }
      const bucket = Math.floor(t / this.bucketMs) * this.bucketMs;
      if (bucket !== this.bucket) {
        this.flush();
        this.bucket = bucket;
      }
      for (let c = 0; c < columns.length; c++) {
        const v = row[c];
        if (c === timeAt || v === null || v === undefined) continue;
        if (!this.accumulate(columns[c]!, v)) return;
      }
    }
  }

  /** How many lines are ready. */
  get ready(): number {
    return this.lines.length;
  }

  /** The lines of the buckets completed so far (each line is given once). */
  take(): string[] {
    const out = this.lines;
    this.lines = [];
    return out;
  }

  /** Completes the last bucket; the lines not yet taken. */
  finish(): string[] {
    this.flush();
    this.seriesKey = null;
    return this.take();
  }

  private accumulate(field: string, v: unknown): boolean {
    let acc = this.fields.get(field);
    if (!acc) {
      const kind = this.kindOf(field, v);
      if (!kind) return false;
      acc = { kind, count: 0, sum: 0, min: v as number | boolean, max: v as number | boolean };
      this.fields.set(field, acc);
    }
    acc.count++;
    switch (acc.kind) {
      case 'float':
      case 'integer': {
        if (typeof v !== 'number' || (acc.kind === 'integer' && !Number.isSafeInteger(v))) return this.giveUp(`field ${field}: ${String(v)} is not ${acc.kind === 'integer' ? 'an integer' : 'a float'} JSON can carry exactly`);
        acc.sum += v;
        if (v < (acc.min as number)) acc.min = v;
        if (v > (acc.max as number)) acc.max = v;
        if (acc.kind === 'integer' && !Number.isSafeInteger(acc.sum)) return this.giveUp(`field ${field}: a sum beyond 2^53`);
        return true;
      }
      case 'boolean':
        if (typeof v !== 'boolean') return this.giveUp(`field ${field}: ${String(v)} is not a boolean`);
        if (!v) acc.min = false;
        if (v) acc.max = true;
        return true;
      case 'string':
        return typeof v === 'string' || this.giveUp(`field ${field}: not a string`);
    }
  }

  private kindOf(field: string, v: unknown): Kind | null {
    const types = this.types.get(this.measurement)?.get(field);
    if (!types || types.size !== 1) {
      this.unsupported = types ? `field ${field} of ${this.measurement} has ${types.size} types in InfluxDB` : `field ${field} of ${this.measurement} is not among the field keys`;
      return null;
    }
    const [type] = types as unknown as [string];
    if (!KINDS.has(type)) {
      this.unsupported = `field ${field} of ${this.measurement} is of type ${type}`;
      return null;
    }
    if (typeof v !== (type === 'float' || type === 'integer' ? 'number' : type)) {
      this.unsupported = `field ${field} of ${this.measurement}: a value that is not ${type}`;
      return null;
    }
    return type as Kind;
  }

  private giveUp(reason: string): false {
    this.unsupported = reason;
    return false;
  }

  private flush(): void {
    if (this.fields.size === 0) return;
    let out = '';
    for (const [name, acc] of this.fields) {
      const f = escapeKey(name);
      if (out) out += ',';
      out += `count_${f}=${acc.count}i`;
      if (acc.kind === 'string') continue;
      if (acc.kind === 'boolean') {
        out += `,min_${f}=${String(acc.min)},max_${f}=${String(acc.max)}`;
        continue;
      }
      const mean = acc.sum / acc.count;
      if (!Number.isFinite(mean) || !Number.isFinite(acc.sum)) {
        this.unsupported = `field ${name}: a sum beyond what a float holds`;
        return;
      }
      const i = acc.kind === 'integer' ? 'i' : '';
      out += `,mean_${f}=${mean},min_${f}=${acc.min as number}${i},max_${f}=${acc.max as number}${i},sum_${f}=${acc.sum}${i}`;
    }
    this.lines.push(`${this.head} ${out} ${this.bucket}`);
    this.fields = new Map();
  }
}

function seriesKeyOf(s: InfluxSeries): string {
  return s.tags ? `${s.name}\u0000${JSON.stringify(s.tags)}` : s.name;
}

/** measurement and tags as line protocol (tags sorted by key, empty ones, absent from the series, dropped) */
function headOf(s: InfluxSeries): string {
  let head = escapeMeasurement(s.name);
  const tags = s.tags ?? {};
  for (const k of Object.keys(tags).sort()) {
    const v = tags[k];
    if (v) head += `,${escapeKey(k)}=${escapeKey(v)}`;
  }
  return head;
}
