import { AGENT_ID_TAG, RESERVED_KEYS, type StoredPoint } from '@agentmon/contracts';
import type { Precision } from './line-protocol.parser.js';
import { MAX_FIELDS_PER_POINT, MAX_FIELD_STRING, MAX_TAGS_PER_POINT, checkTime, type FieldKind, type PointLimits } from './point-rules.js';

/**
 * The fast path of line protocol: one pass over the body's bytes (UTF-8, checked by the caller) that
 * checks what `parseLineProtocol` (the slow path, and the authority for errors) checks, without
 * building an object per point or a string of the body, and yields the batch in the stream's normal
 * form (TelemetryLines) — the client's own bytes where they are already normal, rewritten only where
 * they are not:
 * - timestamps become epoch ms (`ns` drops 6 digits, `us` 3; `s`, `m`, `h` are multiplied); a line
 *   without one gets the time of receipt;
 * - `12i` and `12u` lose their suffix (numbers travel as floats);
 * - `\r\n` line ends, comments, blank lines and leading whitespace are dropped.
 *
 * Escapes are taken as they are when they are those the slow path writes (`\,` `\ ` in a
 * measurement; `\,` `\=` `\ ` in tag keys, tag values but agent_id's, and field keys; `\"` `\\` in a
 * string), so that Telegraf's escaped tags stay on this path.
 *
 * It gives up (null) on anything unusual, and then the caller parses the body with the slow path:
 * any other backslash, a control character outside a line end, a newline or control character inside a
 * string, several spaces or a tab between the parts, a number in another spelling than
 * `-?(0|[1-9]\d*)(\.\d+)?` (with `i`/`u` for integers of at most 18 digits), `-0`, a timestamp that is
 * negative, has a leading zero or more digits than can be converted exactly, text after the
 * timestamp, a very long line — and every error. So it accepts a subset of what the slow path
 * accepts, with the same points (`line-protocol.fast.spec.ts` checks both over the fuzz corpora).
 *
 * Names are checked once per distinct line shape (measurement, tag keys, field keys and field
 * kinds): reserved names, lengths, counts, duplicates, agent_id present, one kind per field in the
 * batch. Values are checked on every line.
 *
 * Bytes, not a string: a peak batch of 5,000 lines is about 700 KB, and a string that large is a
 * large object of V8's heap, memory fresh from the system on every batch. Decoding such a body cost
 * 3.3 ms of CPU on the eleventh machine of docs/benchmarks.md (item 41), more than scanning it. Every byte of a multi-byte UTF-8 character is 128 or more, which the scanner
 * takes as an ordinary character wherever any character may stand, as it took the character; limits
 * on lengths, counted here in bytes, only make it give up sooner than the slow path would refuse.
 */
export interface FastBatch {
  /** the lines in the stream's normal form, UTF-8, joined by `\n` (no newline at either end) */
  lines: Buffer;
  /** `lines` is a view of the body's own bytes (nothing needed rewriting), not a copy */
  fromBody: boolean;
  points: number;
  /** every agent_id of the batch, in the order of first appearance */
  agents: string[];
  /** measurement → field → kind of every field of the batch (for the check against InfluxDB) */
  fieldKinds: Map<string, Map<string, FieldKind>>;
  /**
   * For each agent and line shape, the point of its newest line (the last of the newest when several
   * share a time), in the order of the batch: observing these gives every field's newest value per
   * agent, as observing every point would, without decoding the other lines (for the latest values).
   */
  newestPoints(): LatestPoint[];
  /**
   * The same points undecoded, in no particular order: `order` gives the order of the batch and
   * `point()` decodes. The latest values keep these and decode only those still newest when they
   * send, so that a peak's batches, which bring the same agents again and again, cost a map update
   * per agent and shape instead of a decoded point.
   */
  newestLines(): NewestLine[];
  /** the agents whose oldest point is older than `t`, with that point's time (for the downsampler's backfill) */
  oldestBefore(t: number): [string, number][];
}

/** What the latest values need of a point (its tags are not decoded). */
export type LatestPoint = Pick<StoredPoint, 'agent_id' | 'measurement' | 'fields' | 'time'>;

/** An agent's newest line of one shape, decoded on demand. */
export interface NewestLine {
  agent_id: string;
  /** the line's shape (measurement, tag keys, field keys and kinds): lines of one shape carry the same fields */
  shape: string;
  time: number;
  /** the line's position in the batch */
  order: number;
  point(): LatestPoint;
}

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const EQUALS = 61;
const DEL = 127;
const BACKSLASH = 92;
const LOWER_I = 105;
const LOWER_U = 117;
const LOWER_T = 116;
const UPPER_T = 84;
const LOWER_F = 102;
const UPPER_F = 70;

/**
 * What a character means inside a measurement, a key or a tag value (ASCII; any other character is
 * ORDINARY): one table look-up per character instead of several comparisons.
 */
const ORDINARY = 0;
const END = 1;
const BAD = 2;
const ESCAPE = 3;
function charClasses(ends: string, bad: (c: number) => boolean): Uint8Array {
  const table = new Uint8Array(128);
  for (let c = 0; c < 128; c++) table[c] = bad(c) ? BAD : ORDINARY;
  for (const e of ends) table[e.charCodeAt(0)] = END;
  table[BACKSLASH] = ESCAPE;
  return table;
}
const IN_MEASUREMENT = charClasses(', ', (c) => c < SPACE || c === DEL);
const IN_KEY = charClasses('=', (c) => c <= SPACE || c === COMMA || c === DEL);
const IN_TAG_VALUE = charClasses(', ', (c) => c < SPACE || c === EQUALS || c === DEL);

const K_NUMBER = 1;
const K_BOOLEAN = 2;
const K_STRING = 3;
const KIND_OF: readonly FieldKind[] = ['number', 'number', 'boolean', 'string'];

/** the characters of an agent id: [A-Za-z0-9._:-] */
const AGENT_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-') AGENT_CHAR[c.charCodeAt(0)] = 1;
const BOOLEAN_WORDS = ['t', 'T', 'true', 'True', 'TRUE', 'f', 'F', 'false', 'False', 'FALSE'].map((w) => Buffer.from(w));
/** the bytes [start, end) are one of InfluxDB's boolean words */
function isBooleanWord(b: Uint8Array, start: number, end: number): boolean {
  for (const w of BOOLEAN_WORDS) if (w.length === end - start && sameBytesAt(b, start, w)) return true;
  return false;
}

/** most timestamp digits whose milliseconds are computed exactly without BigInt (as the slow path does) */
const MAX_DIGITS: Record<Precision, number> = { ns: 21, us: 18, ms: 15, s: 12, m: 10, h: 9 };
/** digits dropped to get milliseconds */
const DROP: Record<Precision, number> = { ns: 6, us: 3, ms: 0, s: 0, m: 0, h: 0 };
const MULTIPLY: Record<Precision, number> = { ns: 1, us: 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** most characters of a number (a float without exponent this long is always finite) */
const MAX_NUMBER_CHARS = 64;
/** most digits of an `i`/`u` integer (19 may leave the 64-bit range) */
const MAX_INTEGER_DIGITS = 18;

interface Newest {
  shape: Shape;
  start: number;
  end: number;
  time: number;
}

/** The keys of a kind of line: measurement, tag keys, field keys and field kinds, in line order. */
interface Shape {
  index: number;
  /** measurement, tag keys, field keys and kinds, separated by control characters */
  key: string;
  measurement: string;
  fieldKeys: string[];
  /** the length of each field key as written in the line (with its escapes) */
  fieldKeyWidths: number[];
  kinds: Uint8Array;
  /**
   * The shape as the scanner meets it: the characters of each key, -1 after each key, the kind of
   * each field as -10 - kind after its key, -2 at the end (no character code is negative, so a line
   * of another shape differs before it could read past the end).
   */
  template: Int32Array;
  /** the position of agent_id among the tag keys */
  agentTag: number;
}

/** An agent of the batch, found by a hash of its id computed while the id is checked. */
interface Agent {
  id: string;
  /** another agent whose id has the same hash */
  next: Agent | undefined;
  /** per shape index: the agent's newest line of that shape */
  newest: (Newest | undefined)[];
  /** the time of its oldest line */
  oldest: number;
}

const KEY_END = -1;
const SHAPE_END = -2;
const KIND_BASE = -10;
const NO_SHAPE = Int32Array.of(SHAPE_END);

/** `body`: UTF-8 (the caller checks it; a string is encoded, for tests and tools). */
export function scanLineProtocol(body: Buffer | string, precision: Precision, limits: PointLimits, maxPoints: number): FastBatch | null {
  return new FastScanner(typeof body === 'string' ? Buffer.from(body) : body, precision, limits, maxPoints).run();
}

/**
 * The fields of a line of the output (the normal form, as the scanner wrote it: only the escapes
 * `\,` `\=` `\ ` in names and tag values, `\"` `\\` in strings), read by its shape: the fields start
 * after the first unescaped space.
 */
function fieldsOf(b: Buffer, n: Newest): StoredPoint['fields'] {
  const { fieldKeys, fieldKeyWidths, kinds } = n.shape;
  const fields: StoredPoint['fields'] = {};
  // the first space not escaped (a name or tag holds no `\\`, so a space after a backslash is escaped)
  let p = b.indexOf(SPACE, n.start);
  while (b[p - 1] === BACKSLASH) p = b.indexOf(SPACE, p + 1);
  p++;
  for (let f = 0; f < fieldKeys.length; f++) {
    const key = fieldKeys[f]!;
    p += fieldKeyWidths[f]! + 1;
    let value: number | boolean | string;
    let q: number;
    if (kinds[f] === K_STRING) {
      q = p + 1;
      let escaped = false;
      for (let c = b[q]; c !== QUOTE; c = b[++q]) {
        if (c === BACKSLASH) {
          escaped = true;
          q++;
        }
      }
      const raw = b.toString('utf8', p + 1, q);
      value = escaped ? raw.replace(/\\([\\"])/g, '$1') : raw;
      q++;
    } else {
      q = p;
      for (let c = b[q]; c !== COMMA && c !== SPACE && q < n.end; c = b[++q]);
      if (kinds[f] === K_BOOLEAN) value = b[p] === LOWER_T || b[p] === UPPER_T;
      else value = Number(b.toString('latin1', p, q));
    }
    // own property also for `__proto__`, which must not reach the prototype setter
    if (key === '__proto__') Object.defineProperty(fields, key, { value, enumerable: true, writable: true, configurable: true });
    else fields[key] = value;
    p = q + 1;
  }
  return fields;
}

/** The character a backslash at `i` escapes in a key or tag value (`,` `=` or space), or -1: any other is left to the slow path. */
function escapedKeyChar(b: Uint8Array, i: number): number {
  const e = b[i + 1];
  return e === COMMA || e === EQUALS || e === SPACE ? e : -1;
}

/** A name or tag value as written, without its escapes (`\,` `\=` `\ `, the only ones the scanner takes). */
function unescapeName(raw: string): string {
  return raw.indexOf('\\') === -1 ? raw : raw.replace(/\\([,= ])/g, '$1');
}

/** `key` (ASCII) stands at `at` in `b` */
function sameAt(b: Uint8Array, at: number, key: string): boolean {
  for (let j = 0; j < key.length; j++) if (b[at + j] !== key.charCodeAt(j)) return false;
  return true;
}

/** the bytes of `key` stand at `at` in `b` */
function sameBytesAt(b: Uint8Array, at: number, key: Uint8Array): boolean {
  for (let j = 0; j < key.length; j++) if (b[at + j] !== key[j]) return false;
  return true;
}

/** A hash of the bytes [start, end) (the measurement's, to find the shape last seen with it). */
function hashOf(b: Uint8Array, start: number, end: number): number {
  let h = 0;
  for (let k = start; k < end; k++) h = (Math.imul(h, 31) + b[k]!) & 0x3fffffff;
  return h;
}

class FastScanner {
  private readonly shapes = new Map<string, Shape>();
  /** the shape last seen with each measurement, by a hash of its bytes (a collision only costs a look-up by name) */
  private readonly byMeasurement = new Map<number, Shape>();
  private readonly fieldKinds = new Map<string, Map<string, FieldKind>>();
  private readonly agentsByHash = new Map<number, Agent>();
  private readonly agents: Agent[] = [];
  // key positions of the line being read: start and end of each tag key, of each field key
  private readonly tagKeyAt = new Int32Array(2 * (MAX_TAGS_PER_POINT + 1));
  private readonly fieldKeyAt = new Int32Array(2 * MAX_FIELDS_PER_POINT);
  private readonly kinds = new Uint8Array(MAX_FIELDS_PER_POINT);
  private readonly maxDigits: number;
  private readonly drop: number;
  private readonly multiply: number;
  /** what a line without a timestamp gets */
  private readonly receipt: string;
  /** the shape of the last line read */
  private last: Shape | null = null;
  /**
   * The output is the body with replacements: `out` holds what is final (its first `outLen` bytes;
   * null until the first replacement), the body from `runStart` on is copied as it is until the next one.
   */
  private out: Buffer | null = null;
  private outLen = 0;
  private runStart = 0;
  /** where the content of the last line ended in the body (-1: no line yet) */
  private prevEnd = -1;
  private points = 0;
  /** where readKey left the template comparison (-1: the key differed) */
  private keyT = -1;

  constructor(
    private readonly b: Buffer,
    precision: Precision,
    private readonly limits: PointLimits,
    private readonly maxPoints: number,
  ) {
    this.maxDigits = MAX_DIGITS[precision];
    this.drop = DROP[precision];
    this.multiply = MULTIPLY[precision];
    this.receipt = ` ${limits.receivedAt}`;
  }

  run(): FastBatch | null {
    const b = this.b;
    const len = b.length;
    let i = 0;
    for (;;) {
      // the next point: past blank lines, comments and leading whitespace, as the slow path skips them
      while (i < len) {
        const c = b[i];
        if (c === SPACE || c === TAB || c === CR || c === LF) i++;
        else if (c === HASH) {
          const nl = b.indexOf(LF, i);
          i = nl === -1 ? len : nl;
        } else break;
      }
      if (i >= len) break;
      i = this.line(i);
      if (i === -1) return null;
    }
    const { runStart, prevEnd, points } = this;
    let lines: Buffer;
    if (prevEnd === -1) lines = b.subarray(0, 0);
    else if (this.out === null) lines = b.subarray(runStart, prevEnd);
    else {
      this.append(runStart, prevEnd);
      lines = this.out.subarray(0, this.outLen);
    }
    const fromBody = this.out === null;
    const agents = this.agents;
    return {
      lines,
      fromBody,
      points,
      agents: agents.map((a) => a.id),
      fieldKinds: this.fieldKinds,
      oldestBefore: (t) => {
        const out: [string, number][] = [];
        for (const a of agents) if (a.oldest < t) out.push([a.id, a.oldest]);
        return out;
      },
      newestLines: () => {
        const out: NewestLine[] = [];
        for (const a of agents) {
          for (const n of a.newest) {
            if (n !== undefined) out.push({ agent_id: a.id, shape: n.shape.key, time: n.time, order: n.start, point: () => ({ agent_id: a.id, measurement: n.shape.measurement, fields: fieldsOf(lines, n), time: n.time }) });
          }
        }
        return out;
      },
      newestPoints() {
        // in the order of the body, so that of two lines with one time the later one wins, as it does point by point
        return this.newestLines()
          .sort((x, y) => x.order - y.order)
          .map((l) => l.point());
      },
    };
  }

  /**
   * Reads the line that starts at `ls`: the position after its content, or -1 to give up. One call
   * per line rather than one loop over the body in `run`, so that V8 can switch to optimized code
   * between two lines; a fresh process still runs its first few batches in the interpreter, at 10–30
   * times the cost (docs/benchmarks.md, item 29).
   */
  private line(ls: number): number {
    const b = this.b;
    const len = b.length;
    const limits = this.limits;
    const tagKeyAt = this.tagKeyAt;
    const fieldKeyAt = this.fieldKeyAt;
    const kinds = this.kinds;
    const maxDigits = this.maxDigits;
    const drop = this.drop;
    const multiply = this.multiply;
    const prevEnd = this.prevEnd;
    let runStart = this.runStart;
    let i = ls;
    let c = 0;
    // one \n between two lines, nothing before the first
    if (prevEnd === -1) runStart = ls;
    else if (ls !== prevEnd + 1 || b[prevEnd] !== LF) {
      this.append(runStart, prevEnd);
      this.appendAscii('\n');
      runStart = ls;
    }
    const outStart = this.outLen + (ls - runStart);
    // The keys are compared with the shape of the last line while they are read (`same` as long
    // as they agree; `t` the position in its template).
    let shape: Shape | null = this.last;
    let template = shape === null ? NO_SHAPE : shape.template;
    let same = true;
    let t = 0;

    // measurement
    while (i < len) {
      c = b[i];
      const k = c < 128 ? IN_MEASUREMENT[c] : ORDINARY;
      if (k !== ORDINARY) {
        if (k === END) break;
        if (k === BAD) return -1;
        // only the escapes a measurement needs, as the slow path writes them
        const e = b[i + 1];
        if (e !== COMMA && e !== SPACE) return -1;
        if (same && template[t++] !== c) same = false;
        c = e;
        i++;
      }
      if (same && template[t++] !== c) same = false;
      i++;
    }
    if (i >= len || i === ls) return -1;
    const measurementEnd = i;
    if (same && template[t++] !== KEY_END) same = false;
    if (!same) {
      // another measurement than the last line's: compare with the shape last seen with this one
      shape = this.byMeasurement.get(hashOf(b, ls, measurementEnd)) ?? null;
      if (shape !== null) {
        template = shape.template;
        same = true;
        t = 0;
        for (let k = ls; k < measurementEnd && same; k++) if (template[t++] !== b[k]) same = false;
        if (same && template[t++] !== KEY_END) same = false;
      }
    }

    // tags
    let nTags = 0;
    let agentStart = -1;
    let agentEnd = -1;
    let agentHash = 0;
    while (c === COMMA) {
      const ks = ++i;
      i = this.readKey(i, template, same ? t : -1);
      if (i === -1) return -1;
      if (this.keyT === -1) same = false;
      else t = this.keyT;
      const ke = i;
      const vs = ++i;
      if (same ? nTags === shape!.agentTag : ke - ks === 8 && sameAt(b, ks, AGENT_ID_TAG)) {
        let h = 0;
        while (i < len) {
          c = b[i];
          if (c === COMMA || c === SPACE) break;
          if (c >= 128 || AGENT_CHAR[c] === 0) return -1;
          h = (Math.imul(h, 31) + c) & 0x3fffffff;
          i++;
        }
        if (i - vs > 128) return -1;
        agentStart = vs;
        agentEnd = i;
        agentHash = h;
      } else {
        while (i < len) {
          c = b[i];
          const k = c < 128 ? IN_TAG_VALUE[c] : ORDINARY;
          if (k !== ORDINARY) {
            if (k === END) break;
            if (k === BAD || escapedKeyChar(b, i) === -1) return -1;
            i++;
          }
          i++;
        }
        if (i - vs > 256) return -1;
      }
      if (i >= len || i === vs) return -1;
      if (nTags > MAX_TAGS_PER_POINT) return -1;
      tagKeyAt[2 * nTags] = ks;
      tagKeyAt[2 * nTags + 1] = ke;
      nTags++;
    }
    // c is the space before the fields; exactly one
    if (++i >= len) return -1;
    c = b[i];
    if (c === SPACE || c === TAB) return -1;

    // fields
    let nFields = 0;
    for (;;) {
      const ks = i;
      i = this.readKey(i, template, same ? t : -1);
      if (i === -1 || nFields >= MAX_FIELDS_PER_POINT) return -1;
      if (this.keyT === -1) same = false;
      else t = this.keyT;
      fieldKeyAt[2 * nFields] = ks;
      fieldKeyAt[2 * nFields + 1] = i;
      if (++i >= len) return -1;
      c = b[i];
      let kind: number;
      if (c === QUOTE) {
        const vs = ++i;
        while (i < len) {
          c = b[i];
          if (c === QUOTE) break;
          if (c < SPACE || c === DEL) return -1;
          if (c === BACKSLASH) {
            // only \" and \\ (the slow path's escapes); a lone backslash is left to it
            const e = b[i + 1];
            if (e !== QUOTE && e !== BACKSLASH) return -1;
            i++;
          }
          i++;
        }
        // the length as written (escapes count twice): never longer than the slow path's limit
        if (i >= len || i - vs > MAX_FIELD_STRING) return -1;
        i++;
        kind = K_STRING;
      } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
        const vs = i;
        const negative = c === MINUS;
        if (negative && ++i >= len) return -1;
        const ds = i;
        let nonZero = false;
        while (i < len) {
          c = b[i];
          if (c < ZERO || c > NINE) break;
          if (c !== ZERO) nonZero = true;
          i++;
        }
        const digits = i - ds;
        // no digit (a lone "-"), or a leading zero
        if (digits === 0 || (digits > 1 && b[ds] === ZERO)) return -1;
        if (i < len) {
          c = b[i];
          if (c === DOT) {
            const fs = ++i;
            while (i < len) {
              c = b[i];
              if (c < ZERO || c > NINE) break;
              if (c !== ZERO) nonZero = true;
              i++;
            }
            if (i === fs) return -1;
          } else if (c === LOWER_I || (c === LOWER_U && !negative)) {
            if (digits > MAX_INTEGER_DIGITS) return -1;
            // the number travels as a float: the suffix goes
            this.append(runStart, i);
            runStart = ++i;
          }
        }
        // -0 becomes 0 in the slow path
        if ((negative && !nonZero) || i - vs > MAX_NUMBER_CHARS) return -1;
        kind = K_NUMBER;
      } else if (c === LOWER_T || c === UPPER_T || c === LOWER_F || c === UPPER_F) {
        const vs = i;
        while (i < len) {
          c = b[i];
          if (c === COMMA || c === SPACE || c === LF || c === CR) break;
          i++;
        }
        if (i - vs > 5 || !isBooleanWord(b, vs, i)) return -1;
        kind = K_BOOLEAN;
      } else return -1;
      if (same && template[t++] !== KIND_BASE - kind) same = false;
      kinds[nFields++] = kind;
      if (i >= len) break;
      c = b[i];
      if (c !== COMMA) break;
      i++;
    }

    // timestamp
    let time: number;
    let end: number;
    if (i < len && c === SPACE) {
      const ts = ++i;
      while (i < len) {
        c = b[i];
        if (c < ZERO || c > NINE) break;
        i++;
      }
      end = i;
      const n = end - ts;
      if (n === 0 || n > maxDigits || n <= drop || b[ts] === ZERO) return -1;
      let v = 0;
      for (let k = ts, to = end - drop; k < to; k++) v = v * 10 + (b[k] - ZERO);
      time = v * multiply;
      if (drop > 0) {
        this.append(runStart, end - drop);
        runStart = end;
      } else if (multiply === 1000) {
        this.append(runStart, end);
        this.appendAscii('000');
        runStart = end;
      } else if (multiply > 1) {
        this.append(runStart, ts);
        this.appendAscii(String(time));
        runStart = end;
      }
    } else {
      end = i;
      time = limits.receivedAt;
      this.append(runStart, end);
      this.appendAscii(this.receipt);
      runStart = end;
    }
    // the line ends here: \n, \r\n, or the end of the body
    if (i < len) {
      c = b[i];
      if (c === CR) {
        if (i + 1 < len && b[i + 1] !== LF) return -1;
      } else if (c !== LF) return -1;
    }
    if (checkTime(time, limits) !== null) return -1;
    // the slow path's encoding of the point is at most about twice as long as the line (t → true, …)
    if ((2 * (end - ls) + 32) * 3 > limits.maxPointBytes) return -1;
    if (++this.points > this.maxPoints) return -1;

    if (!same || template[t] !== SHAPE_END) {
      shape = this.shapeOf(ls, measurementEnd, nTags, nFields);
      if (shape === null) return -1;
    }
    const agent = this.agentAt(agentStart, agentEnd, agentHash);
    if (time < agent.oldest) agent.oldest = time;
    const outEnd = this.outLen + (end - runStart);
    const newest = agent.newest[shape!.index];
    if (newest === undefined) agent.newest[shape!.index] = { shape: shape!, start: outStart, end: outEnd, time };
    else if (time >= newest.time) {
      newest.start = outStart;
      newest.end = outEnd;
      newest.time = time;
    }
    this.last = shape;
    this.runStart = runStart;
    this.prevEnd = end;
    return i;
  }

  /** Copies the body's bytes [start, end) to the output. */
  private append(start: number, end: number): void {
    if (end <= start) return;
    this.reserve(end - start);
    this.out!.set(this.b.subarray(start, end), this.outLen);
    this.outLen += end - start;
  }

  /** Writes ASCII text (a line end, digits) to the output. */
  private appendAscii(text: string): void {
    this.reserve(text.length);
    const out = this.out!;
    for (let j = 0; j < text.length; j++) out[this.outLen++] = text.charCodeAt(j);
  }

  /** Room for `n` more bytes of output: at first as much as the body (rewrites mostly shorten it), twice as much when full. */
  private reserve(n: number): void {
    const out = this.out;
    if (out !== null && this.outLen + n <= out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(out === null ? this.b.length + 64 : 2 * out.length, this.outLen + n));
    if (out !== null) grown.set(out.subarray(0, this.outLen));
    this.out = grown;
  }

  /**
   * Reads a tag or field key from `i` to its `=`: the position of the `=`, or -1 to give up (also for
   * an empty key, or one that runs to the end of the body). While `t` is not -1 the key is compared
   * with `template` from position `t` on; `keyT` is then the position past the key's end mark, or -1
   * once they differ.
   */
  private readKey(i: number, template: Int32Array, t: number): number {
    const b = this.b;
    const len = b.length;
    const ks = i;
    while (i < len) {
      let c = b[i];
      const k = c < 128 ? IN_KEY[c] : ORDINARY;
      if (k !== ORDINARY) {
        if (k === END) break;
        if (k === BAD) return -1;
        c = escapedKeyChar(b, i);
        if (c === -1) return -1;
        if (t !== -1 && template[t++] !== BACKSLASH) t = -1;
        i++;
      }
      if (t !== -1 && template[t++] !== c) t = -1;
      i++;
    }
    if (i >= len || i === ks) return -1;
    if (t !== -1 && template[t++] !== KEY_END) t = -1;
    this.keyT = t;
    return i;
  }

  /** The agent whose id stands at [start, end), `hash` its hash. */
  private agentAt(start: number, end: number, hash: number): Agent {
    const b = this.b;
    let agent = this.agentsByHash.get(hash);
    while (agent !== undefined && (agent.id.length !== end - start || !sameAt(b, start, agent.id))) agent = agent.next;
    if (agent === undefined) {
      agent = { id: b.toString('latin1', start, end), next: this.agentsByHash.get(hash), newest: [], oldest: Infinity };
      this.agentsByHash.set(hash, agent);
      this.agents.push(agent);
    }
    return agent;
  }

  /** The shape of the line read: known, or new and checked; null when its names break a rule. */
  private shapeOf(ls: number, measurementEnd: number, nTags: number, nFields: number): Shape | null {
    const b = this.b;
    const measurement = unescapeName(b.toString('utf8', ls, measurementEnd));
    // where the names stand as written (the template the scanner compares lines with), and the names
    const rawKeys: [number, number][] = [];
    const tagKeys: string[] = [];
    for (let t = 0; t < nTags; t++) {
      rawKeys.push([this.tagKeyAt[2 * t]!, this.tagKeyAt[2 * t + 1]!]);
      tagKeys.push(unescapeName(b.toString('utf8', rawKeys[t]![0], rawKeys[t]![1])));
    }
    const fieldKeys: string[] = [];
    const fieldKeyWidths: number[] = [];
    for (let f = 0; f < nFields; f++) {
      const ks = this.fieldKeyAt[2 * f]!;
      const ke = this.fieldKeyAt[2 * f + 1]!;
      rawKeys.push([ks, ke]);
      fieldKeys.push(unescapeName(b.toString('utf8', ks, ke)));
      fieldKeyWidths.push(ke - ks);
    }
    const kinds = this.kinds.slice(0, nFields);
    // control characters cannot occur in names, so they separate the parts
    const key = `${measurement}\u0000${tagKeys.join('\u0001')}\u0000${fieldKeys.map((k, f) => `${k}\u0002${kinds[f]}`).join('\u0001')}`;
    let shape = this.shapes.get(key);
    if (shape === undefined) {
      if (!this.checkNames(measurement, tagKeys, fieldKeys, kinds)) return null;
      const template: number[] = [];
      const put = ([start, end]: [number, number]) => {
        for (let k = start; k < end; k++) template.push(b[k]!);
        template.push(KEY_END);
      };
      put([ls, measurementEnd]);
      for (let t = 0; t < nTags; t++) put(rawKeys[t]!);
      for (let f = 0; f < nFields; f++) {
        put(rawKeys[nTags + f]!);
        template.push(KIND_BASE - kinds[f]!);
      }
      template.push(SHAPE_END);
      shape = { index: this.shapes.size, key, measurement, fieldKeys, fieldKeyWidths, kinds, template: Int32Array.from(template), agentTag: tagKeys.indexOf(AGENT_ID_TAG) };
      this.shapes.set(key, shape);
    }
    this.byMeasurement.set(hashOf(b, ls, measurementEnd), shape);
    return shape;
  }

  /** The rules for names (the characters were checked while reading), and one kind per field in the batch. */
  private checkNames(measurement: string, tagKeys: string[], fieldKeys: string[], kinds: Uint8Array): boolean {
    if (measurement.length > 256) return false;
    const tags = new Set(tagKeys);
    if (tags.size !== tagKeys.length || !tags.has(AGENT_ID_TAG) || tagKeys.length - 1 > MAX_TAGS_PER_POINT) return false;
    for (const k of tagKeys) if (k !== AGENT_ID_TAG && (RESERVED_KEYS.has(k) || k.length > 128)) return false;
    // a field named twice is taken by the slow path (the last value wins there, as in InfluxDB)
    if (new Set(fieldKeys).size !== fieldKeys.length || fieldKeys.length > MAX_FIELDS_PER_POINT) return false;
    for (const k of fieldKeys) if (RESERVED_KEYS.has(k) || k.length > 256) return false;
    let known = this.fieldKinds.get(measurement);
    if (known === undefined) this.fieldKinds.set(measurement, (known = new Map()));
    for (let f = 0; f < fieldKeys.length; f++) {
      const kind = KIND_OF[kinds[f]!]!;
      const before = known.get(fieldKeys[f]!);
      if (before === undefined) known.set(fieldKeys[f]!, kind);
      else if (before !== kind) return false;
    }
    return true;
  }
}
