import type { LatestPoint, NewestLine } from '../ingest/line-protocol.fast.js';

/** between measurement and field in a hash field: a control character, which no stored name contains */
export const SEP = '\u001f';
/** measurements (and fields per measurement) whose hash field names are kept for reuse */
const MAX_CACHED_KEYS = 10_000;
/** `order` of a line is its position in its batch; batches are told apart by multiples of this */
const BATCH_STRIDE = 2 ** 32;

export type FieldValue = number | boolean | string;
/** agent → `<measurement>\x1f<field>` → [time, value] */
export type LatestByAgent = Map<string, Map<string, [number, FieldValue]>>;

/**
 * The latest values observed since the last send: the newest value per agent, measurement and field
 * (of two values with one time, the one observed later).
 *
 * Decoded points (JSON, OTLP, the slow path of line protocol) are merged at once. Lines of the fast
 * path (NewestLine) are kept undecoded, the newest per agent and line shape, and decoded when the
 * values are taken: at a peak the same agents come batch after batch, and most of their lines are
 * superseded before the next send. Taken values are merged in the order they were observed, except
 * that undecoded lines come after decoded points (they are merged when taken): of a JSON point and a
 * line with the same agent, field and time, the line wins.
 */
export class PendingLatest {
  private values: LatestByAgent = new Map();
  /** agent → shape → newest line */
  private lines = new Map<string, Map<string, { line: NewestLine; rank: number }>>();
  private batches = 0;
  /** measurement → field → hash field name */
  private readonly keys = new Map<string, Map<string, string>>();

  get empty(): boolean {
    return this.values.size === 0 && this.lines.size === 0;
  }

  /** Remembers the points' values (newest per agent, measurement and field; tags do not matter). */
  observe(points: readonly LatestPoint[]): void {
    // at a peak the same agents and fields come in batch after batch: no new key string, no new
    // tuple for a field already waiting
    for (const p of points) {
      let fields = this.values.get(p.agent_id);
      if (!fields) this.values.set(p.agent_id, (fields = new Map()));
      const keys = this.keysOf(p.measurement);
      for (const f in p.fields) {
        let key = keys.get(f);
        if (key === undefined) {
          key = p.measurement + SEP + f;
          if (keys.size < MAX_CACHED_KEYS) keys.set(f, key);
        }
        const cur = fields.get(key);
        if (!cur) fields.set(key, [p.time, p.fields[f]!]);
        else if (cur[0] <= p.time) {
          cur[0] = p.time;
          cur[1] = p.fields[f]!;
        }
      }
    }
  }

  /** Remembers a batch's newest lines (one per agent and shape) without decoding them. */
  observeLines(lines: readonly NewestLine[]): void {
    const base = this.batches++ * BATCH_STRIDE;
    for (const line of lines) {
      let shapes = this.lines.get(line.agent_id);
      if (!shapes) this.lines.set(line.agent_id, (shapes = new Map()));
      const cur = shapes.get(line.shape);
      if (!cur) shapes.set(line.shape, { line, rank: base + line.order });
      else if (cur.line.time <= line.time) {
        cur.line = line;
        cur.rank = base + line.order;
      }
    }
  }

  /** Everything observed, decoded, and a fresh start. */
  take(): LatestByAgent {
    if (this.lines.size > 0) {
      const kept: { line: NewestLine; rank: number }[] = [];
      for (const shapes of this.lines.values()) for (const entry of shapes.values()) kept.push(entry);
      kept.sort((a, b) => a.rank - b.rank);
      this.lines = new Map();
      this.batches = 0;
      this.observe(kept.map((k) => k.line.point()));
    }
    const values = this.values;
    this.values = new Map();
    return values;
  }

  private keysOf(measurement: string): Map<string, string> {
    let keys = this.keys.get(measurement);
    if (!keys) {
      keys = new Map();
      if (this.keys.size < MAX_CACHED_KEYS) this.keys.set(measurement, keys);
    }
    return keys;
  }
}
