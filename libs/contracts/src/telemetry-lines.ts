import zlib from 'node:zlib';
import type { StoredPoint } from './ingest.js';

/**
 * Encoding of points as InfluxDB line protocol, and the rules for names that make the encoding
 * lossless. InfluxDB 1.x unescapes only `\,`, `\=` and `\ ` in names and tag values (a `\\` is kept
 * as two backslashes), so a backslash that ends a name or stands before one of those characters
 * cannot be stored faithfully: such names are refused at the edge instead of being changed.
 */

/** Names (measurement, tag keys, field keys) and tag values: no control characters, no unstorable backslash. */
export const NAME_PATTERN = /^(?:[^\\\u0000-\u001f\u007f]|\\(?![,= ]|$))+$/u;
export const NAME_RULE = 'must not contain control characters, and a backslash must not end it or stand before a comma, = or space';
/** A tag value may be empty (InfluxDB treats an empty tag as an absent one). */
export const TAG_VALUE_PATTERN = /^(?:[^\\\u0000-\u001f\u007f]|\\(?![,= ]|$))*$/u;
/** Keys InfluxDB itself gives a meaning to. */
export const RESERVED_KEYS = new Set(['time']);
export const AGENT_ID_TAG = 'agent_id';

export function isValidName(s: string): boolean {
  return s.length > 0 && NAME_PATTERN.test(s);
}

// Names rarely hold a character to escape: a test first spares the replace (writer hot path).
const MEASUREMENT_SPECIAL = /[, ]/;
const KEY_SPECIAL = /[,= ]/;
export function escapeMeasurement(s: string): string {
  return MEASUREMENT_SPECIAL.test(s) ? s.replace(/[, ]/g, '\\$&') : s;
}
export function escapeKey(s: string): string {
  return KEY_SPECIAL.test(s) ? s.replace(/[,= ]/g, '\\$&') : s;
}
export function escapeStringField(s: string): string {
  return s.replace(/[\\"]/g, (c) => `\\${c}`);
}

/**
 * A field value: every number is written as a float (JSON has no integer type, and one field must
 * keep one type in InfluxDB, so `5` and `5.5` must land in the same type); booleans as true/false;
 * strings double-quoted.
 */
export function encodeFieldValue(v: number | boolean | string): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('field values must be finite numbers');
    // no `i` suffix: InfluxDB reads a bare number, with or without decimals, as a float
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return `"${escapeStringField(v)}"`;
}

/** One point as one line: measurement, tags sorted by key (agent_id among them), fields, time in ms. */
export function encodePoint(p: StoredPoint): string {
  let line = escapeMeasurement(p.measurement);
  const tags = p.tags;
  const keys = [AGENT_ID_TAG];
  for (const k in tags) {
    if (k === AGENT_ID_TAG) continue;
    const v = tags[k];
    if (v !== undefined && v !== '') keys.push(k);
  }
  // the default sort orders by UTF-16 code units, as the `<` comparison did (InfluxDB sorts tags too)
  if (keys.length > 1) keys.sort();
  for (const k of keys) line += `,${escapeKey(k)}=${escapeKey(k === AGENT_ID_TAG ? p.agent_id : tags[k]!)}`;
  let first = true;
  for (const k in p.fields) {
    line += `${first ? ' ' : ','}${escapeKey(k)}=${encodeFieldValue(p.fields[k]!)}`;
    first = false;
  }
  if (first) throw new Error('a point needs at least one field');
  return `${line} ${p.time}`;
}

/**
 * Accepted telemetry as it travels on the TELEMETRY stream: InfluxDB line protocol that ingest has
 * checked in full, in one normal form every consumer can rely on —
 * - one point a line (`\n` between lines; a string field may hold a newline inside its quotes);
 * - an `agent_id` tag on every line;
 * - numbers are floats (no `i` or `u` suffix), booleans in any of InfluxDB's spellings;
 * - every line ends with its timestamp in epoch **milliseconds**;
 * - names and tag values escape `,`, `=` and space as InfluxDB reads them, strings `"` and `\`.
 *
 * Two subjects carry it: `evt.ingest.telemetry.lines.v1` as the bytes of the text, and
 * `evt.ingest.telemetry.lines.br.v1` Brotli-compressed (ingest compresses large messages: see
 * compressLines). Consumers read both (`evt.ingest.telemetry.lines.>`); a compressed message is
 * decompressed only when its bytes are first read.
 *
 * The InfluxDB writer sends the bytes as they are (`precision=ms`); consumers that need points decode
 * only the lines they want (`points({measurements, agents})`), so a batch nobody looks into costs
 * nothing but its delivery.
 */
export class TelemetryLines {
  private decoded: string | undefined;
  private plain: Uint8Array | undefined;
  private packed: Uint8Array | undefined;

  /** Lines from the bytes of their text, or (`'br'`) from those bytes compressed by compressLines. */
  constructor(data: Uint8Array, encoding: 'plain' | 'br' = 'plain') {
    if (encoding === 'br') this.packed = data;
    else this.plain = data;
  }

  /** Lines from a message of `evt.ingest.telemetry.lines.br.v1`, decompressed when first read. */
  static fromCompressed(packed: Uint8Array): TelemetryLines {
    return new TelemetryLines(packed, 'br');
  }

  /** Lines of the normal form from points (JSON and OTLP batches, and line protocol that needed rewriting). */
  static fromPoints(points: readonly StoredPoint[]): TelemetryLines {
    return TelemetryLines.fromText(points.map(encodePoint).join('\n'));
  }

  static fromText(text: string): TelemetryLines {
    const lines = new TelemetryLines(UTF8_OUT.encode(text));
    lines.decoded = text;
    return lines;
  }

  /** The bytes of the text. Throws TelemetryLinesError when a compressed message cannot be decompressed. */
  get data(): Uint8Array {
    return (this.plain ??= decompressLines(this.packed!));
  }

  /** The bytes as `evt.ingest.telemetry.lines.br.v1` carries them. */
  get compressed(): Uint8Array {
    return (this.packed ??= compressLines(this.plain!));
  }

  get text(): string {
    return (this.decoded ??= UTF8.decode(this.data));
  }

  /** The points of the lines, in order; only those of the given measurements and agents when a filter is given. */
  points(filter: LinesFilter = {}): StoredPoint[] {
    return decodeLines(this.text, filter);
  }
}

export const LINES_SUBJECT = 'evt.ingest.telemetry.lines.v1' as const;
export const COMPRESSED_LINES_SUBJECT = 'evt.ingest.telemetry.lines.br.v1' as const;
/** What a consumer of every message of lines filters on (both subjects, and none of the agents messages). */
export const ALL_LINES_FILTER = 'evt.ingest.telemetry.lines.>';

/**
 * Brotli at quality 0 with a 256 KiB window: on 5,000 lines of the benchmark's batches about 7 times
 * smaller, at about 0.3 µs of CPU per line to compress and 0.3–0.5 to decompress
 * (`bench/stream-compression.mjs`): less than NATS and the NATS clients spend storing and delivering
 * the bytes it saves.
 */
const BROTLI_OPTIONS = {
  params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 0, [zlib.constants.BROTLI_PARAM_LGWIN]: 18 },
};
/**
 * No message of lines is larger than NATS's max_payload (at most 64 MiB) before compression: a
 * message that would decompress to more is not one of ours, and is refused before it fills memory.
 */
export const MAX_LINES_BYTES = 64 * 1024 * 1024;

export function compressLines(data: Uint8Array): Uint8Array {
  return zlib.brotliCompressSync(data, { ...BROTLI_OPTIONS, params: { ...BROTLI_OPTIONS.params, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length } });
}

/** Throws TelemetryLinesError on bytes that are not a Brotli stream of at most MAX_LINES_BYTES. */
export function decompressLines(packed: Uint8Array): Uint8Array {
  try {
    return zlib.brotliDecompressSync(packed, { maxOutputLength: MAX_LINES_BYTES });
  } catch (err) {
    throw new TelemetryLinesError(`telemetry lines: a compressed message cannot be decompressed (${(err as Error).message})`);
  }
}

export interface LinesFilter {
  measurements?: ReadonlySet<string>;
  agents?: ReadonlySet<string>;
}

const UTF8 = new TextDecoder();
const UTF8_OUT = new TextEncoder();
const C_LF = 10;
const C_SPACE = 32;
const C_QUOTE = 34;
const C_COMMA = 44;
const C_EQUALS = 61;
const C_BACKSLASH = 92;
const TRUE_WORDS = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const FALSE_WORDS = new Set(['f', 'F', 'false', 'False', 'FALSE']);

/** A line that is not in the normal form of the stream (a message that breaks its contract). */
export class TelemetryLinesError extends Error {}

/**
 * Decodes lines of the stream's normal form into points (tags without agent_id, which is the point's
 * `agent_id`). Lines of other measurements or agents than the filter's are skipped without building
 * anything. Throws TelemetryLinesError on text that is not in the normal form.
 */
export function decodeLines(text: string, filter: LinesFilter = {}): StoredPoint[] {
  const out: StoredPoint[] = [];
  const len = text.length;
  let i = 0;
  const fail = (why: string): never => {
    throw new TelemetryLinesError(`telemetry lines: ${why} at offset ${i}`);
  };
  /** reads up to an unescaped stop (`stopEquals`: also `=`), unescaping `\,` `\=` `\ ` */
  const name = (stopEquals: boolean, stopComma: boolean): string => {
    const start = i;
    let out: string | null = null;
    let from = start;
    for (; i < len; i++) {
      const c = text.charCodeAt(i);
      if (c === C_BACKSLASH && i + 1 < len) {
        const n = text.charCodeAt(i + 1);
        if (n === C_COMMA || n === C_SPACE || n === C_EQUALS) {
          out = (out ?? '') + text.slice(from, i) + text[i + 1];
          i++;
          from = i + 1;
          continue;
        }
      }
      if (c === C_SPACE || c === C_LF || (stopComma && c === C_COMMA) || (stopEquals && c === C_EQUALS)) break;
    }
    return out === null ? text.slice(start, i) : out + text.slice(from, i);
  };
  const skipString = (): void => {
    i++; // opening quote
    for (; i < len; i++) {
      const c = text.charCodeAt(i);
      if (c === C_BACKSLASH) i++;
      else if (c === C_QUOTE) {
        i++;
        return;
      }
    }
    fail('unterminated string');
  };
  const readString = (): string => {
    const start = i;
    skipString();
    const raw = text.slice(start + 1, i - 1);
    return raw.includes('\\') ? raw.replace(/\\(["\\])/g, '$1') : raw;
  };
  const token = (): string => {
    const start = i;
    while (i < len) {
      const c = text.charCodeAt(i);
      if (c === C_COMMA || c === C_SPACE || c === C_LF) break;
      i++;
    }
    return text.slice(start, i);
  };

  while (i < len) {
    if (text.charCodeAt(i) === C_LF) {
      i++;
      continue;
    }
    const measurement = name(false, true);
    if (measurement === '') fail('missing measurement');
    let keep = filter.measurements === undefined || filter.measurements.has(measurement);
    let agentId: string | undefined;
    const tags: Record<string, string> = {};
    while (i < len && text.charCodeAt(i) === C_COMMA) {
      i++;
      const key = name(true, true);
      if (text.charCodeAt(i) !== C_EQUALS) fail('tag without value');
      i++;
      const value = name(false, true);
      if (key === AGENT_ID_TAG) agentId = value;
      else if (keep) setTag(tags, key, value);
    }
    if (agentId === undefined) fail('line without agent_id');
    if (keep && filter.agents !== undefined && !filter.agents.has(agentId!)) keep = false;
    if (text.charCodeAt(i) !== C_SPACE) fail('missing fields');
    i++;
    const fields: Record<string, number | boolean | string> = {};
    let count = 0;
    for (;;) {
      const key = name(true, true);
      if (key === '' || text.charCodeAt(i) !== C_EQUALS) fail('bad field');
      i++;
      if (text.charCodeAt(i) === C_QUOTE) {
        if (keep) setTag(fields, key, readString());
        else skipString();
      } else {
        const raw = token();
        if (keep) setTag(fields, key, fieldValue(raw, fail));
      }
      count++;
      if (text.charCodeAt(i) !== C_COMMA) break;
      i++;
    }
    if (text.charCodeAt(i) !== C_SPACE) fail('missing timestamp');
    i++;
    const ts = token();
    const time = Number(ts);
    if (ts === '' || !Number.isSafeInteger(time)) fail('bad timestamp');
    if (i < len && text.charCodeAt(i) !== C_LF) fail('text after the timestamp');
    if (keep && count > 0) out.push({ agent_id: agentId!, measurement, tags, fields, time });
  }
  return out;
}

function fieldValue(raw: string, fail: (why: string) => never): number | boolean {
  if (TRUE_WORDS.has(raw)) return true;
  if (FALSE_WORDS.has(raw)) return false;
  const n = Number(raw);
  if (raw === '' || !Number.isFinite(n)) fail(`bad field value ${JSON.stringify(raw.slice(0, 40))}`);
  return n === 0 ? 0 : n;
}

/** Own property, also for `__proto__` (which must not reach the prototype setter). */
function setTag<T>(o: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}
