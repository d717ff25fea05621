import type { StoredPoint } from '@agentmon/contracts';

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
