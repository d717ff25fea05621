import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { AgentInfo, StoredPoint } from '@agentmon/contracts';
import { AGENT_ID_TAG, NAME_PATTERN, NAME_RULE, RESERVED_KEYS, TAG_VALUE_PATTERN, encodePoint } from '@agentmon/contracts';
import { pointerToPath } from '../ingest/json-batch.validator.js';
import { Details, MAX_FIELDS_PER_POINT, MAX_TAGS_PER_POINT, checkTime, pointTooBig, type PointLimits, type PreparedBatch } from '../ingest/point-rules.js';
import {
  EXPORT_METRICS_REQUEST_SCHEMA,
  type AnyValue,
  type Double,
  type ExportMetricsRequest,
  type HistogramDataPoint,
  type Int64,
  type KeyValue,
  type Metric,
  type NumberDataPoint,
  type SummaryDataPoint,
  type ExponentialHistogramDataPoint,
} from './otlp-metrics.schema.js';

/** Resource attributes that name the agent, in order of preference. */
export const AGENT_ID_ATTRIBUTES = ['agent.id', 'service.instance.id'] as const;
/**
 * Resource attributes that do not become tags: they describe one process run (a pid, a command
 * line) or the SDK, so as tags they would start a new series on every restart.
 */
export const RESOURCE_TAG_EXCLUDED_PREFIXES = ['process.', 'telemetry.'] as const;
/** Resource attributes copied to the agent's registry record (when they fit its limits). */
const AGENT_INFO_ATTRIBUTES: [keyof AgentInfo, string, number][] = [
  ['name', 'service.name', 256],
  ['version', 'service.version', 128],
  ['host', 'host.name', 256],
  ['region', 'cloud.region', 128],
];
/** A data point flag: the point carries no value (a stale series); it is skipped, not refused. */
const FLAG_NO_RECORDED_VALUE = 1;

const AGENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const KINDS = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;
type Kind = (typeof KINDS)[number];
const POINTER = /^\/resourceMetrics\/(\d+)(?:\/scopeMetrics\/(\d+)\/metrics\/(\d+)(?:\/(\w+)\/dataPoints\/(\d+))?)?/;

export type OtlpOutcome = { ok: true; batch: PreparedBatch; paths: string[] } | { ok: false; details: Details };

/**
 * Maps an ExportMetricsServiceRequest (proto3 JSON form, from either encoding) to points:
 *
 * - measurement = the metric name as sent; tags = the resource's attributes (less those naming the
 *   agent and those under `process.`/`telemetry.`) and the data point's (which win on a clash);
 *   time = `timeUnixNano` (0 or absent: the time of receipt);
 * - gauge and sum: field `value`;
 * - histogram: `count`, `sum`, `min`, `max` (those sent) and one `le_<bound>` per explicit bound
 *   with the cumulative count of observations ≤ bound (`count` is the +Inf bucket);
 * - exponential histogram: `count`, `sum`, `min`, `max`, `zero_count` (buckets are not kept);
 * - summary: `count`, `sum` and one `p<quantile×100>` per quantile (`p50`, `p99`, `p99_9`).
 *
 * The agent is the resource attribute `agent.id`, else `service.instance.id`. A request with any
 * bad data point is refused whole, every problem named by its OTLP/JSON path.
 */
export class OtlpMetricsMapper {
  private readonly validate: ValidateFunction<ExportMetricsRequest>;

  constructor(private readonly maxPoints: number) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, unicodeRegExp: true });
    this.validate = ajv.compile<ExportMetricsRequest>(EXPORT_METRICS_REQUEST_SCHEMA);
  }

  map(body: unknown, limits: PointLimits): OtlpOutcome {
    return new Mapping(limits, this.maxPoints).run(body, this.validate);
  }
}

/** One request's mapping: the details found so far and the points made. */
class Mapping {
  private readonly details = new Details();
  private readonly pointIds = new Map<string, number>();
  private readonly points: StoredPoint[] = [];
  private readonly encoded: string[] = [];
  private readonly paths: string[] = [];
  private readonly agents = new Map<string, AgentInfo>();
  private counted = 0;
  private tooMany = false;

  constructor(
    private readonly limits: PointLimits,
    private readonly maxPoints: number,
  ) {}

  run(body: unknown, validate: ValidateFunction<ExportMetricsRequest>): OtlpOutcome {
    const shapeOk = validate(body);
    const tainted = new Set<string>();
    if (!shapeOk) {
      for (const err of validate.errors ?? []) {
        const path = this.addAjvError(err);
        const m = POINTER.exec(err.instancePath);
        if (!m) return { ok: false, details: this.details };
        // an error inside a resource, metric or data point keeps the rules below off that node
        tainted.add(m[5] !== undefined ? path.slice(0, path.indexOf(']', path.indexOf('dataPoints[')) + 1) : m[3] !== undefined ? `r${m[1]}s${m[2]}m${m[3]}` : `r${m[1]}`);
      }
    }
    const request = body as ExportMetricsRequest;
    const resources = request.resourceMetrics ?? [];
    for (let r = 0; r < resources.length && !this.tooMany; r++) {
      if (tainted.has(`r${r}`)) continue;
      const rm = resources[r]!;
      const at = `resourceMetrics[${r}]`;
      const resource = this.resource(rm.resource?.attributes ?? [], `${at}.resource.attributes`);
      const scopes = rm.scopeMetrics ?? [];
      let hasPoints = false;
      for (let s = 0; s < scopes.length && !this.tooMany; s++) {
        const metrics = scopes[s]!.metrics ?? [];
        for (let m = 0; m < metrics.length && !this.tooMany; m++) {
          if (tainted.has(`r${r}s${s}m${m}`)) continue;
          hasPoints = this.metric(metrics[m]!, `${at}.scopeMetrics[${s}].metrics[${m}]`, resource, tainted) || hasPoints;
        }
      }
      if (resource.agentId === null && !resource.idGiven && hasPoints) {
        this.details.add(null, `${at}.resource.attributes`, `must name the agent: ${AGENT_ID_ATTRIBUTES.join(' or ')} (matching [A-Za-z0-9._:-]{1,128})`);
      }
      // an envelope without points still says the agent is alive, like a JSON batch without points
      if (resource.agentId !== null && resource.ok && !this.agents.has(resource.agentId)) this.agents.set(resource.agentId, resource.agent);
    }
    if (!shapeOk || !this.details.empty) return { ok: false, details: this.details };
    return {
      ok: true,
      paths: this.paths,
      batch: { source: 'otlp', receivedAt: this.limits.receivedAt, agents: [...this.agents.values()], points: this.points, encoded: this.encoded },
    };
  }

  // ---------------------------------------------------------------- resources

  private resource(attributes: KeyValue[], at: string): { agentId: string | null; idGiven: boolean; agent: AgentInfo; tags: Record<string, string>; ok: boolean } {
    const before = this.details.total;
    const byKey = this.attributes(attributes, at);
    let agentId: string | null = null;
    let idGiven = false;
    for (const name of AGENT_ID_ATTRIBUTES) {
      const found = byKey.get(name);
      if (!found) continue;
      idGiven = true;
      const id = found.text;
      if (id === null || !AGENT_ID.test(id)) this.details.add(null, `${at}[${found.index}].value`, `${name} names the agent and must be a string matching [A-Za-z0-9._:-]{1,128}`);
      else agentId = id;
      break;
    }
    const agent: AgentInfo = { id: agentId ?? '' };
    for (const [prop, key, max] of AGENT_INFO_ATTRIBUTES) {
      const v = byKey.get(key)?.text;
      if (v && v.length <= max) (agent as unknown as Record<string, string>)[prop] = v;
    }
    const tags: Record<string, string> = Object.create(null);
    for (const [key, { text, index }] of byKey) {
      if ((AGENT_ID_ATTRIBUTES as readonly string[]).includes(key) || RESOURCE_TAG_EXCLUDED_PREFIXES.some((p) => key.startsWith(p))) continue;
      if (this.tagProblem(key, text, `${at}[${index}]`) || text === null || text === '') continue;
      tags[key] = text;
    }
    return { agentId, idGiven, agent, tags, ok: this.details.total === before };
  }

  /** Attributes by key, as tag text; a key given twice is refused. */
  private attributes(list: KeyValue[], at: string): Map<string, { text: string | null; index: number }> {
    const out = new Map<string, { text: string | null; index: number }>();
    for (let i = 0; i < list.length; i++) {
      const kv = list[i]!;
      if (out.has(kv.key)) {
        this.details.add(null, `${at}[${i}].key`, `${JSON.stringify(kv.key.slice(0, 64))} appears twice`);
        continue;
      }
      out.set(kv.key, { text: anyValueText(kv.value), index: i });
    }
    return out;
  }

  /** Whether an attribute cannot be a tag; the reason is recorded at `at`. */
  private tagProblem(key: string, text: string | null, at: string, item: number | null = null): boolean {
    const bad = (where: string, reason: string) => {
      this.details.add(item, `${at}.${where}`, reason);
      return true;
    };
    if (key === AGENT_ID_TAG || RESERVED_KEYS.has(key)) return bad('key', `${key} is a reserved name`);
    if (key.length === 0 || key.length > 128) return bad('key', 'must be a name of 1 to 128 characters');
    if (!NAME_PATTERN.test(key)) return bad('key', NAME_RULE);
    if (text === null) return false;
    if (text.length > 256) return bad('value', 'must be at most 256 characters as a tag');
    if (!TAG_VALUE_PATTERN.test(text)) return bad('value', NAME_RULE);
    return false;
  }

  // ---------------------------------------------------------------- metrics and data points

  /** Maps one metric's data points; true when it has any. */
  private metric(metric: Metric, at: string, resource: ReturnType<Mapping['resource']>, tainted: Set<string>): boolean {
    const kinds = KINDS.filter((k) => metric[k] !== undefined && metric[k] !== null);
    if (kinds.length === 0) {
      this.details.add(null, at, `has no data (one of ${KINDS.join(', ')})`);
      return false;
    }
    if (kinds.length > 1) {
      this.details.add(null, at, `has more than one kind of data (${kinds.join(', ')})`);
      return false;
    }
    const kind = kinds[0]!;
    const name = metric.name;
    let nameOk = true;
    if (name.length === 0 || name.length > 256) {
      this.details.add(null, `${at}.name`, 'must be a metric name of 1 to 256 characters');
      nameOk = false;
    } else if (!NAME_PATTERN.test(name) || name.startsWith('#')) {
      this.details.add(null, `${at}.name`, `${NAME_RULE}, and must not start with #`);
      nameOk = false;
    }
    const dataPoints = (metric[kind]!.dataPoints ?? []) as unknown[];
    for (let p = 0; p < dataPoints.length; p++) {
      const path = `${at}.${kind}.dataPoints[${p}]`;
      if (tainted.has(path)) continue;
      if (++this.counted > this.maxPoints) {
        this.details.add(null, 'resourceMetrics', `must hold at most ${this.maxPoints} data points`);
        this.tooMany = true;
        return true;
      }
      this.dataPoint(kind, dataPoints[p] as NumberDataPoint, path, nameOk ? name : null, resource);
    }
    return dataPoints.length > 0;
  }

  private dataPoint(kind: Kind, dp: NumberDataPoint | HistogramDataPoint | SummaryDataPoint, at: string, measurement: string | null, resource: ReturnType<Mapping['resource']>): void {
    if (((dp.flags ?? 0) & FLAG_NO_RECORDED_VALUE) !== 0) return;
    const item = this.pointId(at);
    const before = this.details.total;
    const bad = (where: string, reason: string) => this.details.add(item, `${at}${where}`, reason);

    // tags: the resource's, then the data point's
    const tags: Record<string, string> = Object.assign(Object.create(null), resource.tags);
    const attrs = this.attributes(dp.attributes ?? [], `${at}.attributes`);
    for (const [key, { text, index }] of attrs) {
      if (this.tagProblem(key, text, `${at}.attributes[${index}]`, item)) continue;
      if (text === null || text === '') delete tags[key];
      else tags[key] = text;
    }
    if (Object.keys(tags).length > MAX_TAGS_PER_POINT) bad('.attributes', `with the resource's attributes makes more than ${MAX_TAGS_PER_POINT} tags`);

    const time = nanosToMs(dp.timeUnixNano, this.limits.receivedAt);
    const timeProblem = checkTime(time, this.limits);
    if (timeProblem) bad('.timeUnixNano', timeProblem);

    const fields = this.fields(kind, dp, bad);
    if (fields && Object.keys(fields).length > MAX_FIELDS_PER_POINT) bad('', `makes more than ${MAX_FIELDS_PER_POINT} fields`);
    if (this.details.total > before || !fields || measurement === null || resource.agentId === null || !resource.ok) return;

    const point: StoredPoint = { agent_id: resource.agentId, measurement, tags, fields, time };
    const line = encodePoint(point);
    const tooBig = pointTooBig(line, this.limits.maxPointBytes);
    if (tooBig) return void bad('', tooBig);
    this.points.push(point);
    this.encoded.push(line);
    this.paths.push(at);
  }

  private fields(kind: Kind, dp: unknown, bad: (where: string, reason: string) => void): Record<string, number> | null {
    const fields: Record<string, number> = Object.create(null);
    let ok = true;
    /** a finite number, or absent; NaN and ±Infinity cannot be stored */
    const put = (field: string, where: string, raw: Double | Int64 | null | undefined, required = false) => {
      if (raw === null || raw === undefined) {
        if (required) fields[field] = 0;
        return;
      }
      const v = typeof raw === 'number' ? raw : Number(raw);
      if (!Number.isFinite(v)) {
        bad(where, 'must be a finite number');
        ok = false;
        return;
      }
      fields[field] = v === 0 ? 0 : v; // no -0: JSON, which carries the point on, has none
    };
    switch (kind) {
      case 'gauge':
      case 'sum': {
        const p = dp as NumberDataPoint;
        const hasDouble = p.asDouble !== undefined && p.asDouble !== null;
        const hasInt = p.asInt !== undefined && p.asInt !== null;
        if (hasDouble === hasInt) {
          bad('', hasDouble ? 'has both asDouble and asInt' : 'has no value (asDouble or asInt)');
          return null;
        }
        if (hasDouble) put('value', '.asDouble', p.asDouble);
        else put('value', '.asInt', p.asInt);
        break;
      }
      case 'histogram': {
        const p = dp as HistogramDataPoint;
        put('count', '.count', p.count, true);
        put('sum', '.sum', p.sum);
        put('min', '.min', p.min);
        put('max', '.max', p.max);
        const bounds = (p.explicitBounds ?? []).map(Number);
        const counts = (p.bucketCounts ?? []).map(Number);
        if (counts.length === 0 && bounds.length === 0) break;
        if (counts.length !== bounds.length + 1) {
          bad('.bucketCounts', `must hold one count more than explicitBounds (${bounds.length + 1}, not ${counts.length})`);
          return null;
        }
        let cumulative = 0;
        for (let i = 0; i < bounds.length; i++) {
          const b = bounds[i]!;
          if (!Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]!)) {
            bad(`.explicitBounds[${i}]`, 'must be finite and larger than the bound before it');
            return null;
          }
          cumulative += counts[i]!;
          fields[`le_${b}`] = cumulative;
        }
        break;
      }
      case 'exponentialHistogram': {
        const p = dp as ExponentialHistogramDataPoint;
        put('count', '.count', p.count, true);
        put('sum', '.sum', p.sum);
        put('min', '.min', p.min);
        put('max', '.max', p.max);
        put('zero_count', '.zeroCount', p.zeroCount, true);
        break;
      }
      case 'summary': {
        const p = dp as SummaryDataPoint;
        put('count', '.count', p.count, true);
        put('sum', '.sum', p.sum, true);
        const quantiles = p.quantileValues ?? [];
        for (let i = 0; i < quantiles.length; i++) {
          const q = Number(quantiles[i]!.quantile ?? 0);
          if (!(q >= 0 && q <= 1)) {
            bad(`.quantileValues[${i}].quantile`, 'must be between 0 and 1');
            ok = false;
            continue;
          }
          put(quantileField(q), `.quantileValues[${i}].value`, quantiles[i]!.value, true);
        }
        break;
      }
    }
    return ok ? fields : null;
  }

  private pointId(path: string): number {
    let id = this.pointIds.get(path);
    if (id === undefined) {
      id = this.pointIds.size;
      this.pointIds.set(path, id);
    }
    return id;
  }

  /** Records one schema error; answers its path. */
  private addAjvError(err: ErrorObject): string {
    let path = pointerToPath(err.instancePath);
    const schema = (err.parentSchema ?? {}) as { reason?: string; type?: unknown };
    let reason: string;
    switch (err.keyword) {
      case 'required':
        path = path ? `${path}.${(err.params as { missingProperty: string }).missingProperty}` : (err.params as { missingProperty: string }).missingProperty;
        reason = 'is required';
        break;
      case 'type': {
        const types = String((err.params as { type: string | string[] }).type)
          .split(',')
          .filter((t) => t !== 'null');
        reason = schema.reason ?? `must be ${types.map((t) => (t === 'integer' ? 'an integer' : t === 'object' ? 'an object' : t === 'array' ? 'an array' : `a ${t}`)).join(' or ')}`;
        break;
      }
      case 'maxLength':
        reason = `must be at most ${(err.params as { limit: number }).limit} characters`;
        break;
      default:
        reason = schema.reason ?? err.message ?? 'is invalid';
    }
    const m = POINTER.exec(err.instancePath);
    const item = m?.[5] !== undefined ? this.pointId(path.slice(0, path.indexOf(']', path.indexOf('dataPoints[')) + 1)) : null;
    this.details.add(item, path || '(root)', reason);
    return path;
  }
}

/** `p50`, `p99`, `p99_9` for 0.5, 0.99, 0.999. */
export function quantileField(q: number): string {
  return `p${String(Number((q * 100).toPrecision(12))).replace('.', '_')}`;
}

/** Epoch ms of a `timeUnixNano` (a decimal string or a number); 0 or absent means the time of receipt. */
export function nanosToMs(v: Int64 | null | undefined, receivedAt: number): number {
  if (v === null || v === undefined) return receivedAt;
  if (typeof v === 'number') return v === 0 ? receivedAt : Math.floor(v / 1e6);
  const digits = v.replace(/^0+/, '');
  if (digits === '') return receivedAt;
  return digits.length > 6 ? Number(digits.slice(0, -6)) : 0;
}

/** An attribute value as tag text: strings as they are, other scalars printed, lists and maps as JSON; null when unset. */
export function anyValueText(v: AnyValue | null | undefined): string | null {
  const plain = anyValuePlain(v);
  if (plain === undefined) return null;
  return typeof plain === 'string' ? plain : JSON.stringify(plain);
}

function anyValuePlain(v: AnyValue | null | undefined): unknown {
  if (v === null || v === undefined) return undefined;
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue;
  if (v.boolValue !== undefined && v.boolValue !== null) return String(v.boolValue);
  if (v.intValue !== undefined && v.intValue !== null) return String(v.intValue);
  if (v.doubleValue !== undefined && v.doubleValue !== null) return String(typeof v.doubleValue === 'number' ? v.doubleValue : Number(v.doubleValue));
  if (v.bytesValue !== undefined && v.bytesValue !== null) return v.bytesValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map((x) => anyValuePlain(x) ?? null);
  if (v.kvlistValue) {
    const out: Record<string, unknown> = {};
    for (const kv of v.kvlistValue.values ?? []) out[kv.key] = anyValuePlain(kv.value) ?? null;
    return out;
  }
  return undefined;
}
