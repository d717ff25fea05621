/**
 * JSON schema of an ExportMetricsServiceRequest in its proto3 JSON form (OTLP/JSON: lowerCamelCase
 * names, 64-bit integers as decimal strings or numbers, doubles as numbers or "NaN"/"Infinity",
 * enums as integers, `null` meaning "not set"). Binary requests are decoded into the same form
 * first, so this one compiled schema checks both encodings. Unknown fields are ignored, as OTLP
 * requires of receivers.
 *
 * `reason` is what the client reads when the node fails (see `otlpAjvReason`).
 */

/** How deep `arrayValue`/`kvlistValue` may nest in an attribute value. */
export const MAX_ANY_VALUE_DEPTH = 4;
export const MAX_ATTRIBUTE_KEY = 128;
/** Longest string anywhere in the request that we keep (attribute values longer than a tag are refused later) */
export const MAX_OTLP_STRING = 65_536;

type Schema = Record<string, unknown>;

const nullable = (s: Schema): Schema => {
  const type = s.type;
  return { ...s, type: Array.isArray(type) ? [...type, 'null'] : [type, 'null'] };
};
const str = (max = MAX_OTLP_STRING): Schema => nullable({ type: 'string', maxLength: max });
const int64 = nullable({ type: ['string', 'integer'], pattern: '^-?[0-9]{1,20}$', reason: 'must be a 64-bit integer (a decimal string or a number)' });
const uint64 = nullable({ type: ['string', 'integer'], minimum: 0, pattern: '^[0-9]{1,20}$', reason: 'must be an unsigned 64-bit integer (a decimal string or a number)' });
const double = nullable({
  type: ['number', 'string'],
  pattern: '^(?:NaN|-?Infinity|-?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][-+]?[0-9]+)?)$',
  reason: 'must be a number (or "NaN", "Infinity", "-Infinity")',
});
const uint32 = nullable({ type: 'integer', minimum: 0, maximum: 4_294_967_295, reason: 'must be an unsigned 32-bit integer' });
const array = (items: Schema): Schema => nullable({ type: 'array', items });
/** a message: `null` as a field value means "not set"; as an item of a list it is refused */
const message = (properties: Schema, extra: Schema = {}): Schema => ({ type: 'object', properties, ...extra });
const object = (properties: Schema, extra: Schema = {}): Schema => nullable(message(properties, extra));

/**
 * AnyValue nests (arrays and maps of AnyValue): one definition per level, referenced by `$ref`, so
 * ajv compiles each level once and nesting deeper than MAX_ANY_VALUE_DEPTH is refused.
 */
function anyValue(depth: number): Schema {
  const nested = depth > 0;
  const tooDeep = { not: {}, reason: `nests more than ${MAX_ANY_VALUE_DEPTH} levels deep` };
  // `null` (as a value, or an item of arrayValue) is an AnyValue that is not set
  return object({
    stringValue: str(),
    boolValue: nullable({ type: 'boolean' }),
    intValue: int64,
    doubleValue: double,
    bytesValue: nullable({ type: 'string', maxLength: MAX_OTLP_STRING, pattern: '^[A-Za-z0-9+/_-]*={0,2}$', reason: 'must be base64' }),
    arrayValue: nested ? object({ values: array({ $ref: `#/$defs/anyValue${depth - 1}` }) }) : tooDeep,
    kvlistValue: nested ? object({ values: array({ $ref: `#/$defs/keyValue${depth - 1}` }) }) : tooDeep,
  });
}
function keyValue(depth: number): Schema {
  return {
    type: 'object',
    required: ['key'],
    properties: { key: { type: 'string', maxLength: MAX_ATTRIBUTE_KEY }, value: { $ref: `#/$defs/anyValue${depth}` } },
  };
}
const defs: Schema = {};
for (let d = 0; d <= MAX_ANY_VALUE_DEPTH; d++) {
  defs[`anyValue${d}`] = anyValue(d);
  defs[`keyValue${d}`] = keyValue(d);
}
const attributes = array({ $ref: `#/$defs/keyValue${MAX_ANY_VALUE_DEPTH}` });

const pointCommon = { attributes, startTimeUnixNano: uint64, timeUnixNano: uint64, flags: uint32, exemplars: array({ type: 'object' }) };
const numberDataPoint = message({ ...pointCommon, asDouble: double, asInt: int64 });
const histogramDataPoint = message({ ...pointCommon, count: uint64, sum: double, bucketCounts: array(uint64), explicitBounds: array(double), min: double, max: double });
const buckets = object({ offset: nullable({ type: 'integer' }), bucketCounts: array(uint64) });
const exponentialHistogramDataPoint = message({
  ...pointCommon,
  count: uint64,
  sum: double,
  scale: nullable({ type: 'integer' }),
  zeroCount: uint64,
  positive: buckets,
  negative: buckets,
  min: double,
  max: double,
  zeroThreshold: double,
});
const summaryDataPoint = message({ ...pointCommon, count: uint64, sum: double, quantileValues: array(message({ quantile: double, value: double })) });
const temporality = nullable({ type: 'integer', minimum: 0, maximum: 2, reason: 'must be 0, 1 or 2 (OTLP/JSON encodes enums as integers)' });

const metric = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string' },
    description: str(),
    unit: str(),
    metadata: attributes,
    gauge: object({ dataPoints: array(numberDataPoint) }),
    sum: object({ dataPoints: array(numberDataPoint), aggregationTemporality: temporality, isMonotonic: nullable({ type: 'boolean' }) }),
    histogram: object({ dataPoints: array(histogramDataPoint), aggregationTemporality: temporality }),
    exponentialHistogram: object({ dataPoints: array(exponentialHistogramDataPoint), aggregationTemporality: temporality }),
    summary: object({ dataPoints: array(summaryDataPoint) }),
  },
};

export const EXPORT_METRICS_REQUEST_SCHEMA: Schema = {
  $defs: defs,
  type: 'object',
  properties: {
    resourceMetrics: array(
      message({
        resource: object({ attributes, droppedAttributesCount: uint32 }),
        scopeMetrics: array(message({ scope: object({ name: str(), version: str(), attributes }), metrics: array(metric), schemaUrl: str() })),
        schemaUrl: str(),
      }),
    ),
  },
};

// ------------------------------------------------------------------ the shape the schema admits

export type Int64 = string | number;
export type Double = number | string;
export interface AnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: Int64 | null;
  doubleValue?: Double | null;
  bytesValue?: string | null;
  arrayValue?: { values?: (AnyValue | null)[] | null } | null;
  kvlistValue?: { values?: KeyValue[] | null } | null;
}
export interface KeyValue {
  key: string;
  value?: AnyValue | null;
}
interface PointCommon {
  attributes?: KeyValue[] | null;
  timeUnixNano?: Int64 | null;
  flags?: number | null;
}
export interface NumberDataPoint extends PointCommon {
  asDouble?: Double | null;
  asInt?: Int64 | null;
}
export interface HistogramDataPoint extends PointCommon {
  count?: Int64 | null;
  sum?: Double | null;
  bucketCounts?: Int64[] | null;
  explicitBounds?: Double[] | null;
  min?: Double | null;
  max?: Double | null;
}
export interface ExponentialHistogramDataPoint extends PointCommon {
  count?: Int64 | null;
  sum?: Double | null;
  zeroCount?: Int64 | null;
  min?: Double | null;
  max?: Double | null;
}
export interface SummaryDataPoint extends PointCommon {
  count?: Int64 | null;
  sum?: Double | null;
  quantileValues?: { quantile?: Double | null; value?: Double | null }[] | null;
}
export interface Metric {
  name: string;
  gauge?: { dataPoints?: NumberDataPoint[] | null } | null;
  sum?: { dataPoints?: NumberDataPoint[] | null } | null;
  histogram?: { dataPoints?: HistogramDataPoint[] | null } | null;
  exponentialHistogram?: { dataPoints?: ExponentialHistogramDataPoint[] | null } | null;
  summary?: { dataPoints?: SummaryDataPoint[] | null } | null;
}
export interface ExportMetricsRequest {
  resourceMetrics?:
    | {
        resource?: { attributes?: KeyValue[] | null } | null;
        scopeMetrics?: { metrics?: Metric[] | null }[] | null;
      }[]
    | null;
}
