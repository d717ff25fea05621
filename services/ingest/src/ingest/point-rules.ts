import type { AgentInfo, ErrorDetail, StoredPoint } from '@agentmon/contracts';

/** How far ahead of the receiving clock a timestamp may be. */
export const MAX_FUTURE_MS = 10 * 60_000;
/** Most entries in an error's `details`; the message still counts all of them. */
export const MAX_ERROR_DETAILS = 1000;
export const MAX_FIELD_STRING = 65_536;
export const MAX_FIELDS_PER_POINT = 1000;
export const MAX_TAGS_PER_POINT = 256;
/** Tags an agent may describe itself with (they travel in the batch's agents message). */
export const MAX_AGENT_TAGS = 64;

/** What every accepted point must satisfy beyond its shape; fixed at the time of receipt. */
export interface PointLimits {
  receivedAt: number;
  /** oldest acceptable time: receipt minus the raw retention */
  oldestMs: number;
  /** newest acceptable time: receipt plus ten minutes */
  newestMs: number;
  /** largest point, as one line of the stream's normal form, that still fits in one stream message */
  maxPointBytes: number;
}

export function pointLimits(receivedAt: number, rawRetentionMs: number, maxPointBytes: number): PointLimits {
  return { receivedAt, oldestMs: receivedAt - rawRetentionMs, newestMs: receivedAt + MAX_FUTURE_MS, maxPointBytes };
}

/** A batch that passed every check: its points, each already encoded as it travels on the stream. */
export interface PreparedBatch {
  source: 'json' | 'line' | 'otlp';
  receivedAt: number;
  agents: AgentInfo[];
  points: StoredPoint[];
  /** each point as one line of the stream's normal form (encodePoint), in the order of `points` */
  encoded: string[];
  /** for line protocol: the 0-based line of each point, for error details */
  lines?: number[];
}

/** Collects the bad fields of a batch, at most MAX_ERROR_DETAILS of them, counting the rest. */
export class Details {
  readonly list: ErrorDetail[] = [];
  private readonly seen = new Set<string>();
  /** indexes of bad points (or lines) */
  readonly badItems = new Set<number>();
  total = 0;

  add(item: number | null, path: string, reason: string): void {
    if (item !== null) this.badItems.add(item);
    if (this.seen.has(path)) return;
    this.seen.add(path);
    this.total++;
    if (this.list.length < MAX_ERROR_DETAILS) this.list.push({ path, reason });
  }
  get empty(): boolean {
    return this.total === 0;
  }
  message(what: string): string {
    const bad = this.badItems.size;
    const head = bad > 0 ? `${bad} invalid ${what}${bad === 1 ? '' : 's'}; nothing was stored` : 'invalid request; nothing was stored';
    const first = this.list[0];
    const more = this.total > this.list.length ? ` (${this.total} problems, the first ${this.list.length} listed)` : '';
    return first ? `${head}: ${first.path} ${first.reason}${more}` : head;
  }
}

/** RFC 3339 with a zone (Z or ±hh:mm), as the contract takes it. */
export const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** Epoch ms of a point's `time`, or a reason it is unacceptable. */
export function checkTime(ms: number, limits: PointLimits): string | null {
  if (ms > limits.newestMs) return 'is more than 10 minutes in the future';
  if (ms < limits.oldestMs) return 'is older than the raw retention';
  return null;
}

/** Epoch ms of an RFC 3339 time, NaN when it is not one or names a day that does not exist (Feb 30). */
export function parseRfc3339(s: string): number {
  if (!RFC3339.test(s)) return Number.NaN;
  const [y, mo, d, h, mi, sec] = [s.slice(0, 4), s.slice(5, 7), s.slice(8, 10), s.slice(11, 13), s.slice(14, 16), s.slice(17, 19)].map(Number) as [number, number, number, number, number, number];
  const probe = new Date(Date.UTC(y, mo - 1, d, h, mi, sec));
  if (probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d || probe.getUTCHours() !== h || probe.getUTCMinutes() !== mi) return Number.NaN;
  return Date.parse(s);
}

export type FieldKind = 'number' | 'boolean' | 'string';
/**
 * InfluxDB keeps one type per field of a measurement; two points of one batch that disagree would
 * make InfluxDB drop one of them after the batch was acknowledged, so the batch is refused instead.
 */
export class FieldTypes {
  private readonly kinds = new Map<string, Map<string, FieldKind>>();
  /** the kind seen first, when it differs from this value's */
  conflict(measurement: string, field: string, value: number | boolean | string): FieldKind | null {
    const kind = typeof value as FieldKind;
    let fields = this.kinds.get(measurement);
    if (!fields) {
      fields = new Map();
      this.kinds.set(measurement, fields);
    }
    const known = fields.get(field);
    if (known === undefined) {
      fields.set(field, kind);
      return null;
    }
    return known === kind ? null : known;
  }
}

export const KIND_NAME: Record<FieldKind, string> = { number: 'a number', boolean: 'a boolean', string: 'a string' };

/** A reason when the encoded point (its line) cannot fit in one stream message (UTF-8 is at most 3 bytes per UTF-16 unit). */
export function pointTooBig(line: string, maxPointBytes: number): string | null {
  if (line.length * 3 <= maxPointBytes) return null;
  const bytes = Buffer.byteLength(line);
  return bytes > maxPointBytes ? `is ${bytes} bytes encoded; one point may be at most ${maxPointBytes}` : null;
}

/** Per agent, the time of its oldest point older than `t` (agents without one are left out). */
export function oldestBefore(points: readonly { agent_id: string; time: number }[], t: number): [string, number][] {
  const oldest = new Map<string, number>();
  for (const p of points) {
    const cur = oldest.get(p.agent_id);
    if (p.time < t && (cur === undefined || p.time < cur)) oldest.set(p.agent_id, p.time);
  }
  return [...oldest];
}
