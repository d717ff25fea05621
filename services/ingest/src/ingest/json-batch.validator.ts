import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { AgentInfo, StoredPoint } from '@agentmon/contracts';
import { AGENT_ID_TAG, NAME_PATTERN, NAME_RULE, RESERVED_KEYS, TAG_VALUE_PATTERN, encodePoint } from '@agentmon/contracts';
import {
  Details,
  FieldTypes,
  KIND_NAME,
  MAX_AGENT_TAGS,
  MAX_FIELDS_PER_POINT,
  MAX_FIELD_STRING,
  MAX_TAGS_PER_POINT,
  RFC3339,
  checkTime,
  parseRfc3339,
  pointTooBig,
  type PointLimits,
  type PreparedBatch,
} from './point-rules.js';

/** The JSON body of `POST /api/v2/ingest` as the contract shows it. */
export interface JsonBatchBody {
  agent: AgentInfo;
  points: { measurement: string; fields: Record<string, number | boolean | string>; tags?: Record<string, string>; time?: number | string }[];
}

export type ValidationOutcome = { ok: true; batch: PreparedBatch } | { ok: false; details: Details };

// `typeReason` and `patternReason` are the reasons shown to the client when that keyword of the schema node fails.
const name = (max: number) => ({ type: 'string', minLength: 1, maxLength: max, pattern: NAME_PATTERN.source, patternReason: NAME_RULE });
const tagsSchema = {
  type: 'object',
  maxProperties: MAX_TAGS_PER_POINT,
  propertyNames: name(128),
  additionalProperties: { type: 'string', maxLength: 256, pattern: TAG_VALUE_PATTERN.source, patternReason: NAME_RULE },
};

function batchSchema(maxPoints: number) {
  return {
    type: 'object',
    required: ['agent', 'points'],
    properties: {
      agent: {
        type: 'object',
        required: ['id'],
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$', patternReason: 'must match [A-Za-z0-9._:-]{1,128}' },
          name: { type: 'string', maxLength: 256 },
          type: { type: 'string', maxLength: 128 },
          version: { type: 'string', maxLength: 128 },
          host: { type: 'string', maxLength: 256 },
          region: { type: 'string', maxLength: 128 },
          tags: {
            type: 'object',
            maxProperties: MAX_AGENT_TAGS,
            propertyNames: { type: 'string', minLength: 1, maxLength: 128 },
            additionalProperties: { type: 'string', maxLength: 256 },
          },
        },
      },
      points: {
        type: 'array',
        maxItems: maxPoints,
        items: {
          type: 'object',
          required: ['measurement', 'fields'],
          properties: {
            measurement: { ...name(256), not: { pattern: '^#' }, patternReason: `${NAME_RULE}, and must not start with #` },
            fields: {
              type: 'object',
              minProperties: 1,
              maxProperties: MAX_FIELDS_PER_POINT,
              propertyNames: name(256),
              additionalProperties: {
                type: ['number', 'boolean', 'string'],
                maxLength: MAX_FIELD_STRING,
                typeReason: 'must be a number, a boolean or a string',
              },
            },
            tags: tagsSchema,
            time: {
              type: ['integer', 'string'],
              minimum: 0,
              pattern: RFC3339.source,
              typeReason: 'must be an RFC 3339 time with a zone or epoch milliseconds',
              patternReason: 'must be an RFC 3339 time with a zone or epoch milliseconds',
            },
          },
        },
      },
    },
  } as const;
}

/**
 * The hot-path validator of JSON batches: one compiled JSON schema (ajv, all errors) for the
 * shape, then one pass for what depends on the clock and on the batch as a whole. A batch with any
 * bad point is refused whole, with every bad field named.
 */
export class JsonBatchValidator {
  private readonly validate: ValidateFunction<JsonBatchBody>;

  constructor(private readonly maxPoints: number) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, unicodeRegExp: true });
    this.validate = ajv.compile<JsonBatchBody>(batchSchema(maxPoints));
  }

  check(body: unknown, limits: PointLimits): ValidationOutcome {
    const details = new Details();
    const shapeOk = this.validate(body);
    if (!shapeOk) for (const err of this.validate.errors ?? []) addAjvError(details, err, this.maxPoints);
    // The rules below run on every point of the right shape even when others are not, so that
    // one answer names every bad point.
    const raw = (body as Partial<JsonBatchBody> | null)?.points;
    if (!Array.isArray(raw)) return { ok: false, details };
    const agentId = shapeOk ? body.agent.id : '';
    const points: StoredPoint[] = new Array(raw.length);
    const encoded: string[] = new Array(raw.length);
    const types = new FieldTypes();
    for (let i = 0; i < raw.length; i++) {
      if (details.badItems.has(i)) continue;
      const p = raw[i]!;
      const at = `points[${i}]`;
      let time = limits.receivedAt;
      if (p.time !== undefined) {
        time = typeof p.time === 'number' ? p.time : parseRfc3339(p.time);
        const reason = Number.isNaN(time) ? 'is not a valid date' : checkTime(time, limits);
        if (reason) details.add(i, `${at}.time`, reason);
      }
      const tags = p.tags ?? {};
      if (Object.prototype.hasOwnProperty.call(tags, AGENT_ID_TAG)) details.add(i, `${at}.tags.${AGENT_ID_TAG}`, 'is set from agent.id and must not be sent as a tag');
      for (const k in tags) if (RESERVED_KEYS.has(k)) details.add(i, `${at}.tags.${k}`, 'is a reserved name');
      for (const k in p.fields) {
        if (RESERVED_KEYS.has(k)) {
          details.add(i, `${at}.fields.${k}`, 'is a reserved name');
          continue;
        }
        const v = p.fields[k]!;
        if (typeof v === 'number' && !Number.isFinite(v)) details.add(i, `${at}.fields.${k}`, 'must be a finite number');
        const known = types.conflict(p.measurement, k, v);
        if (known) details.add(i, `${at}.fields.${k}`, `is ${KIND_NAME[typeof v as 'number']} but an earlier point of this batch has ${KIND_NAME[known]} for ${p.measurement}.${k}`);
      }
      if (details.badItems.has(i)) continue;
      const point: StoredPoint = { agent_id: agentId, measurement: p.measurement, tags, fields: p.fields, time };
      const line = encodePoint(point);
      const tooBig = pointTooBig(line, limits.maxPointBytes);
      if (tooBig) {
        details.add(i, at, tooBig);
        continue;
      }
      points[i] = point;
      encoded[i] = line;
    }
    if (!shapeOk || !details.empty) return { ok: false, details };
    return { ok: true, batch: { source: 'json', receivedAt: limits.receivedAt, agents: [agentInfo(body.agent)], points, encoded } };
  }
}

/** Only the documented properties of the agent travel on. */
function agentInfo(a: AgentInfo): AgentInfo {
  const out: AgentInfo = { id: a.id };
  if (a.name !== undefined) out.name = a.name;
  if (a.type !== undefined) out.type = a.type;
  if (a.version !== undefined) out.version = a.version;
  if (a.host !== undefined) out.host = a.host;
  if (a.region !== undefined) out.region = a.region;
  if (a.tags !== undefined) out.tags = a.tags;
  return out;
}

/** `/points/3/fields/cpu_usage` → `points[3].fields.cpu_usage` */
export function pointerToPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

function addAjvError(details: Details, err: ErrorObject, maxPoints: number): void {
  let path = pointerToPath(err.instancePath);
  const m = /^\/points\/(\d+)/.exec(err.instancePath);
  const item = m ? Number(m[1]) : null;
  const schema = (err.parentSchema ?? {}) as { typeReason?: string; patternReason?: string };
  let reason: string;
  switch (err.keyword) {
    case 'required':
      path = join(path, (err.params as { missingProperty: string }).missingProperty);
      reason = 'is required';
      break;
    case 'propertyNames':
      // the name itself was reported by the nested error (below); this one only repeats it
      return;
    case 'type': {
      const types = String((err.params as { type: string | string[] }).type).split(',');
      reason = schema.typeReason ?? `must be ${types.map((t) => (t === 'integer' ? 'an integer' : t === 'object' ? 'an object' : t === 'array' ? 'an array' : `a ${t}`)).join(' or ')}`;
      break;
    }
    case 'maxItems':
      reason = `must hold at most ${maxPoints} points`;
      break;
    case 'minProperties':
      reason = 'must hold at least one field';
      break;
    case 'maxProperties':
      reason = `must hold at most ${(err.params as { limit: number }).limit} entries`;
      break;
    case 'maxLength':
      reason = `must be at most ${(err.params as { limit: number }).limit} characters`;
      break;
    case 'minLength':
      reason = 'must not be empty';
      break;
    case 'minimum':
      reason = 'must not be negative';
      break;
    case 'pattern':
    case 'not':
      reason = schema.patternReason ?? err.message ?? 'is invalid';
      break;
    default:
      reason = err.message ?? 'is invalid';
  }
  // an error about a property name: ajv puts the name in params.propertyName
  const propertyName = (err as ErrorObject & { propertyName?: string }).propertyName ?? (err.params as { propertyName?: string }).propertyName;
  if (propertyName !== undefined && err.keyword !== 'required') path = join(path, propertyName);
  details.add(item, path || '(root)', reason);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
