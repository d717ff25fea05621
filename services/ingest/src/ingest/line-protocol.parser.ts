import type { AgentInfo, StoredPoint } from '@agentmon/contracts';
import { AGENT_ID_TAG, NAME_PATTERN, NAME_RULE, RESERVED_KEYS, TAG_VALUE_PATTERN, encodePoint } from '@agentmon/contracts';
import {
  Details,
  FieldTypes,
  KIND_NAME,
  MAX_FIELDS_PER_POINT,
  MAX_FIELD_STRING,
  MAX_TAGS_PER_POINT,
  checkTime,
  pointTooBig,
  type PointLimits,
  type PreparedBatch,
} from './point-rules.js';

/** Timestamp precisions of the InfluxDB write APIs. */
export type Precision = 'ns' | 'us' | 'ms' | 's' | 'm' | 'h';

/**
 * The `precision` query parameter. The 1.x API (`/write`) takes n, ns, u, us, µ, ms, s, m, h; the
 * 2.x API (`/api/v2/write`) takes ns, us, ms, s. Absent means nanoseconds in both.
 */
export function parsePrecision(value: string | undefined, api: 'v1' | 'v2'): Precision | null {
  if (value === undefined || value === '') return 'ns';
  const v2: Record<string, Precision> = { ns: 'ns', us: 'us', ms: 'ms', s: 's' };
  const v1: Record<string, Precision> = { ...v2, n: 'ns', u: 'us', 'µ': 'us', m: 'm', h: 'h' };
  return (api === 'v1' ? v1 : v2)[value] ?? null;
}

const AGENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// InfluxDB refuses a leading "+" on field values (`+1`, `+1i` are "invalid boolean" to it)
const FLOAT = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
const INTEGER = /^-?\d+i$/;
const UNSIGNED = /^\d+u$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const TIMESTAMP = /^-?\d+$/;
const TRUE = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const FALSE = new Set(['f', 'F', 'false', 'False', 'FALSE']);
// character codes of the scanner
const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const COMMA = 44;
const MINUS = 45;
const EQUALS = 61;
const BACKSLASH = 92;
const LOWER_I = 105;
const LOWER_U = 117;

/**
 * Sets an own property of a plain object. Plain objects (not `Object.create(null)`, which V8 keeps
 * as slow dictionaries) make for-in (the encoder) fast; `__proto__` must not reach the setter.
 */
function setOwn<T>(o: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

class LineError extends Error {
  constructor(
    readonly where: string,
    reason: string,
  ) {
    super(reason);
  }
}

interface RawPoint {
  line: number;
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number | boolean | string>;
  /** epoch ms, or null for "time of receipt" */
  time: number | null;
}

export type LineOutcome = { ok: true; batch: PreparedBatch } | { ok: false; details: Details; tooManyPoints?: boolean };

/**
 * Parses InfluxDB line protocol (`measurement[,tag=v…] field=v[,field=v…] [timestamp]`, one point a
 * line, `#` comments, escapes `\,` `\=` `\ ` `\\` in names and `\"` `\\` in strings, integers with
 * `i`, unsigned with `u`) and checks each point like a JSON point. Every line carries the tag
 * `agent_id`. Numbers become floats, as in JSON batches, so that one field keeps one type.
 * The slow path, and the authority for errors: most bodies are taken by `scanLineProtocol`
 * (line-protocol.fast.ts), which accepts a subset of what this accepts, with the same points.
 */
export function parseLineProtocol(body: string, precision: Precision, limits: PointLimits, maxPoints: number): LineOutcome {
  const details = new Details();
  const raw: RawPoint[] = [];
  const scanner = new Scanner(body, precision);
  for (;;) {
    const line = scanner.nextLine();
    if (line === null) break;
    try {
      const p = scanner.point(line);
      if (p) {
        if (raw.length >= maxPoints) {
          details.add(null, 'lines', `must hold at most ${maxPoints} points`);
          return { ok: false, details, tooManyPoints: true };
        }
        raw.push(p);
      }
    } catch (err) {
      if (!(err instanceof LineError)) throw err;
      details.add(line, `lines[${line}]${err.where}`, err.message);
      scanner.skipLine();
    }
  }
  return checkPoints(raw, limits, details);
}

function checkPoints(raw: RawPoint[], limits: PointLimits, details: Details): LineOutcome {
  const points: StoredPoint[] = [];
  const encoded: string[] = [];
  const lines: number[] = [];
  const agents = new Map<string, AgentInfo>();
  const types = new FieldTypes();
  for (const p of raw) {
    const bad = (where: string, reason: string) => details.add(p.line, `lines[${p.line}]${where}`, reason);
    if (p.measurement.length > 256) bad('.measurement', 'must be at most 256 characters');
    else if (!NAME_PATTERN.test(p.measurement)) bad('.measurement', NAME_RULE);
    const agentId = p.tags[AGENT_ID_TAG];
    if (agentId === undefined) bad(`.tags.${AGENT_ID_TAG}`, 'is required on every line');
    else if (!AGENT_ID.test(agentId)) bad(`.tags.${AGENT_ID_TAG}`, 'must match [A-Za-z0-9._:-]{1,128}');
    const tags: Record<string, string> = {};
    let tagCount = 0;
    for (const k in p.tags) {
      if (k === AGENT_ID_TAG) continue;
      const v = p.tags[k]!;
      if (++tagCount > MAX_TAGS_PER_POINT) {
        bad('.tags', `must hold at most ${MAX_TAGS_PER_POINT} tags`);
        break;
      }
      if (RESERVED_KEYS.has(k)) bad(`.tags.${k}`, 'is a reserved name');
      else if (k.length > 128) bad(`.tags.${k}`, 'must be a name of at most 128 characters');
      else if (!NAME_PATTERN.test(k)) bad(`.tags.${k}`, NAME_RULE);
      else if (v.length > 256) bad(`.tags.${k}`, 'must be at most 256 characters');
      else if (!TAG_VALUE_PATTERN.test(v)) bad(`.tags.${k}`, NAME_RULE);
      else setOwn(tags, k, v);
    }
    let fieldCount = 0;
    for (const k in p.fields) {
      const v = p.fields[k]!;
      if (++fieldCount > MAX_FIELDS_PER_POINT) {
        bad('.fields', `must hold at most ${MAX_FIELDS_PER_POINT} fields`);
        break;
      }
      if (RESERVED_KEYS.has(k)) bad(`.fields.${k}`, 'is a reserved name');
      else if (k.length > 256) bad(`.fields.${k}`, 'must be a name of at most 256 characters');
      else if (!NAME_PATTERN.test(k)) bad(`.fields.${k}`, NAME_RULE);
      else if (typeof v === 'string' && v.length > MAX_FIELD_STRING) bad(`.fields.${k}`, `must be at most ${MAX_FIELD_STRING} characters`);
      else {
        const known = types.conflict(p.measurement, k, v);
        if (known) bad(`.fields.${k}`, `is ${KIND_NAME[typeof v as 'number']} but an earlier line has ${KIND_NAME[known]} for ${p.measurement}.${k}`);
      }
    }
    const time = p.time ?? limits.receivedAt;
    const timeProblem = checkTime(time, limits);
    if (timeProblem) bad('.time', timeProblem);
    if (details.badItems.has(p.line) || agentId === undefined) continue;
    const point: StoredPoint = { agent_id: agentId, measurement: p.measurement, tags, fields: p.fields, time };
    const line = encodePoint(point);
    const tooBig = pointTooBig(line, limits.maxPointBytes);
    if (tooBig) {
      bad('', tooBig);
      continue;
    }
    points.push(point);
    encoded.push(line);
    lines.push(p.line);
    if (!agents.has(agentId)) agents.set(agentId, { id: agentId });
  }
  if (!details.empty) return { ok: false, details };
  return { ok: true, batch: { source: 'line', receivedAt: limits.receivedAt, agents: [...agents.values()], points, encoded, lines } };
}

/** A hand-written scanner over the whole body, so that quoted strings may span lines. */
class Scanner {
  private i = 0;
  /** 0-based physical line of the position */
  private line = 0;

  constructor(
    private readonly s: string,
    private readonly precision: Precision,
  ) {}

  /** Moves to the start of the next point (past blank lines and comments); its line, or null at the end. */
  nextLine(): number | null {
    const s = this.s;
    for (;;) {
      while (this.i < s.length && (s[this.i] === ' ' || s[this.i] === '\t' || s[this.i] === '\r')) this.i++;
      if (this.i >= s.length) return null;
      if (s[this.i] === '\n') {
        this.i++;
        this.line++;
        continue;
      }
      if (s[this.i] === '#') {
        this.skipLine();
        continue;
      }
      return this.line;
    }
  }

  skipLine(): void {
    const nl = this.s.indexOf('\n', this.i);
    this.i = nl === -1 ? this.s.length : nl;
  }

  point(line: number): RawPoint | null {
    const measurement = this.token(', ', 'measurement', false);
    if (measurement === '') throw new LineError('.measurement', 'is missing');
    const tags: Record<string, string> = {};
    while (this.peek() === ',') {
      this.i++;
      const key = this.token('=', 'tag key', true);
      if (key === '') throw new LineError('.tags', 'has an empty tag key');
      if (this.peek() !== '=') throw new LineError(`.tags.${key}`, 'is missing "=" and a value');
      this.i++;
      const value = this.token(', =', 'tag value', true);
      if (this.peek() === '=') throw new LineError(`.tags.${key}`, 'has an unescaped "=" in its value (write \\=)');
      if (value === '') throw new LineError(`.tags.${key}`, 'has an empty value');
      // InfluxDB refuses a line that names a tag twice ("duplicate tags")
      if (Object.prototype.hasOwnProperty.call(tags, key)) throw new LineError(`.tags.${key}`, 'appears twice on the line');
      setOwn(tags, key, value);
    }
    if (this.peek() !== ' ') throw new LineError('', 'has no fields (expected a space after the measurement and tags)');
    this.skipSpaces();
    const fields: Record<string, number | boolean | string> = {};
    let count = 0;
    for (;;) {
      const key = this.token('=', 'field key', true);
      if (key === '') throw new LineError('.fields', count === 0 ? 'has no fields' : 'has an empty field key');
      if (this.peek() !== '=') throw new LineError(`.fields.${key}`, 'is missing "=" and a value');
      this.i++;
      setOwn(fields, key, this.fieldValue(key));
      count++;
      if (this.peek() === ',') {
        this.i++;
        continue;
      }
      break;
    }
    let time: number | null = null;
    if (this.peek() === ' ' || this.peek() === '\t') {
      this.skipSpaces();
      const ts = this.rawUntil(false);
      if (ts !== '') time = this.timestamp(ts);
      this.skipSpaces();
    }
    const c = this.peek();
    if (c !== undefined && c !== '\n' && c !== '\r') throw new LineError('', `has unexpected text after the ${time === null ? 'fields' : 'timestamp'}`);
    return { line, measurement, tags, fields, time };
  }

  private peek(): string | undefined {
    return this.s[this.i];
  }

  private skipSpaces(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++;
  }

  /**
   * Reads up to an unescaped stop character or the end of the line, unescaping `\,` `\=` `\ ` `\\`.
   * `stops` holds some of `,`, ` ` and `=`. Character codes and slices, no string built per character
   * (the hot path of every line).
   */
  private token(stops: string, what: string, equalsEscapable: boolean): string {
    const s = this.s;
    const len = s.length;
    const stopComma = stops.includes(',');
    const stopSpace = stops.includes(' ');
    const stopEquals = stops.includes('=');
    let i = this.i;
    let start = i;
    let out: string | null = null;
    while (i < len) {
      const c = s.charCodeAt(i);
      if (c === LF || c === CR) break;
      if (c === BACKSLASH && i + 1 < len) {
        const n = s.charCodeAt(i + 1);
        if (n === COMMA || n === SPACE || n === BACKSLASH || (equalsEscapable && n === EQUALS)) {
          out = (out ?? '') + s.slice(start, i) + s[i + 1];
          i += 2;
          start = i;
          continue;
        }
      }
      if (c === COMMA) {
        if (stopComma) break;
        this.i = i;
        throw new LineError('', `has an unescaped comma in a ${what}`);
      }
      if (c === SPACE) {
        if (stopSpace) break;
        this.i = i;
        throw new LineError('', `has an unescaped space in a ${what}`);
      }
      if (c === EQUALS && stopEquals) break;
      i++;
    }
    this.i = i;
    return out === null ? s.slice(start, i) : out + s.slice(start, i);
  }

  /** Reads up to a space, tab or line end (and a comma when `stopAtComma`). */
  private rawUntil(stopAtComma: boolean): string {
    const s = this.s;
    const start = this.i;
    let i = start;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === SPACE || c === TAB || c === CR || c === LF || (stopAtComma && c === COMMA)) break;
    }
    this.i = i;
    return s.slice(start, i);
  }

  private fieldValue(key: string): number | boolean | string {
    const s = this.s;
    if (s[this.i] === '"') {
      this.i++;
      let out = '';
      while (this.i < s.length) {
        const c = s[this.i]!;
        if (c === '\\' && (s[this.i + 1] === '"' || s[this.i + 1] === '\\')) {
          out += s[this.i + 1];
          this.i += 2;
          continue;
        }
        if (c === '"') {
          this.i++;
          return out;
        }
        if (c === '\n') this.line++;
        out += c;
        this.i++;
      }
      throw new LineError(`.fields.${key}`, 'has a string value without its closing quote');
    }
    const token = this.rawUntil(true);
    if (token === '') throw new LineError(`.fields.${key}`, 'is missing its value');
    if (TRUE.has(token)) return true;
    if (FALSE.has(token)) return false;
    let n: number;
    const last = token.charCodeAt(token.length - 1);
    if ((last === LOWER_I && INTEGER.test(token)) || (last === LOWER_U && UNSIGNED.test(token))) {
      const digits = token.slice(0, -1);
      // 64-bit ranges as InfluxDB checks them (shorter numbers cannot leave them)
      if (digits.length >= 19) {
        const v = BigInt(digits);
        const signed = token.endsWith('i');
        if (signed ? v < INT64_MIN || v > INT64_MAX : v > UINT64_MAX) {
          throw new LineError(`.fields.${key}`, `is out of range for ${signed ? 'a signed' : 'an unsigned'} 64-bit integer`);
        }
      }
      n = Number(digits);
    } else if (FLOAT.test(token)) n = Number(token);
    else throw new LineError(`.fields.${key}`, `has an invalid value ${JSON.stringify(token.slice(0, 40))} (numbers, 12i, 12u, true/false, or "strings")`);
    if (!Number.isFinite(n)) throw new LineError(`.fields.${key}`, 'must be a finite number');
    // -0 is 0 (JSON, which carries the point on, has no -0)
    return n === 0 ? 0 : n;
  }

  private timestamp(ts: string): number {
    if (!TIMESTAMP.test(ts) || ts.length > 25) throw new LineError('.time', `has an invalid timestamp ${JSON.stringify(ts.slice(0, 40))}`);
    // Without BigInt where the result is exact: non-negative ms with at most 15 digits (< 2^53), and
    // ns/us whose millisecond digits are that short (dropping digits truncates, as BigInt division does).
    if (ts.charCodeAt(0) !== MINUS) {
      if (this.precision === 'ms' && ts.length <= 15) return Number(ts);
      if (this.precision === 'ns' && ts.length <= 21) return ts.length > 6 ? Number(ts.slice(0, -6)) : 0;
      if (this.precision === 'us' && ts.length <= 18) return ts.length > 3 ? Number(ts.slice(0, -3)) : 0;
    }
    const v = BigInt(ts);
    const ms =
      this.precision === 'ns' ? v / 1_000_000n
      : this.precision === 'us' ? v / 1_000n
      : this.precision === 'ms' ? v
      : this.precision === 's' ? v * 1_000n
      : this.precision === 'm' ? v * 60_000n
      : v * 3_600_000n;
    if (ms > BigInt(Number.MAX_SAFE_INTEGER) || ms < -BigInt(Number.MAX_SAFE_INTEGER)) throw new LineError('.time', 'is out of range');
    return Number(ms);
  }
}
