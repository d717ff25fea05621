import protobuf from 'protobufjs';
import generatedRoot from 'otlp-transformer-protobufjs/build/src/generated/root.js';

/**
 * The OTLP messages, decoded and encoded with protobufjs from the official opentelemetry-proto
 * definitions: the static module that `pbjs` generated from them and that
 * `@opentelemetry/otlp-transformer@0.217.0` ships (installed under the npm alias
 * `otlp-transformer-protobufjs`; later releases replaced protobufjs with a serializer of their own
 * and ship no definitions). Nothing is fetched at run time.
 */
interface Conversion {
  longs?: typeof String;
  enums?: typeof Number;
  bytes?: typeof String;
  json?: boolean;
}
interface StaticMessage {
  decode(reader: Uint8Array): object;
  fromObject(object: object): object;
  encode(message: object): { finish(): Uint8Array };
  toObject(message: object, options?: Conversion): Record<string, unknown>;
}
interface OtlpRoot {
  opentelemetry: { proto: { collector: { metrics: { v1: { ExportMetricsServiceRequest: StaticMessage; ExportMetricsServiceResponse: StaticMessage } } } } };
}

const generated = generatedRoot as unknown as OtlpRoot;
const metricsService = generated.opentelemetry.proto.collector.metrics.v1;

/**
 * Decodes a binary ExportMetricsServiceRequest into its proto3 JSON form (lowerCamelCase names,
 * 64-bit integers as decimal strings, non-finite doubles as "NaN"/"Infinity", enums as numbers,
 * bytes as base64), the same shape an OTLP/JSON client sends, so one compiled schema and one
 * mapping serve both encodings. Throws on bytes that are not such a message.
 */
export function decodeMetricsRequest(body: Uint8Array): Record<string, unknown> {
  const message = metricsService.ExportMetricsServiceRequest.decode(body);
  return metricsService.ExportMetricsServiceRequest.toObject(message, { longs: String, enums: Number, bytes: String, json: true });
}

/** Encodes an ExportMetricsServiceRequest given in proto3 JSON form (tests and tools). */
export function encodeMetricsRequest(request: object): Buffer {
  const T = metricsService.ExportMetricsServiceRequest;
  return Buffer.from(T.encode(T.fromObject(request)).finish());
}

/** The answer to an accepted export: an ExportMetricsServiceResponse without partial_success. */
export function metricsResponseBytes(): Buffer {
  return Buffer.from(metricsService.ExportMetricsServiceResponse.encode({}).finish());
}

/**
 * google.rpc.Status with the details OTLP recommends (googleapis google/rpc/status.proto and
 * google/rpc/error_details.proto, field numbers as published there): BadRequest for bad data,
 * RequestInfo carrying our request id.
 */
const rpcRoot = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: { nested: { Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } } } },
        rpc: {
          nested: {
            Status: {
              fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 } },
            },
            BadRequest: {
              fields: { field_violations: { rule: 'repeated', type: 'FieldViolation', id: 1 } },
              nested: { FieldViolation: { fields: { field: { type: 'string', id: 1 }, description: { type: 'string', id: 2 } } } },
            },
            RequestInfo: { fields: { request_id: { type: 'string', id: 1 }, serving_data: { type: 'string', id: 2 } } },
          },
        },
      },
    },
  },
});
const StatusType = rpcRoot.lookupType('google.rpc.Status');
const BadRequestType = rpcRoot.lookupType('google.rpc.BadRequest');
const RequestInfoType = rpcRoot.lookupType('google.rpc.RequestInfo');

export const BAD_REQUEST_TYPE_URL = 'type.googleapis.com/google.rpc.BadRequest';
export const REQUEST_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RequestInfo';

export interface RpcStatus {
  /** gRPC status code */
  code: number;
  message: string;
  violations: { field: string; description: string }[];
  requestId?: string;
}

/** The Status as protobuf bytes. */
export function encodeStatus(s: RpcStatus): Buffer {
  const details: { type_url: string; value: Uint8Array }[] = [];
  if (s.violations.length > 0) {
    details.push({ type_url: BAD_REQUEST_TYPE_URL, value: BadRequestType.encode(BadRequestType.fromObject({ field_violations: s.violations })).finish() });
  }
  if (s.requestId) details.push({ type_url: REQUEST_INFO_TYPE_URL, value: RequestInfoType.encode(RequestInfoType.fromObject({ request_id: s.requestId })).finish() });
  return Buffer.from(StatusType.encode(StatusType.fromObject({ code: s.code, message: s.message, details })).finish());
}

/** The Status in proto3 JSON form (an `Any` carries its type in `@type`, lowerCamelCase fields). */
export function statusJson(s: RpcStatus): Record<string, unknown> {
  const details: Record<string, unknown>[] = [];
  if (s.violations.length > 0) details.push({ '@type': BAD_REQUEST_TYPE_URL, fieldViolations: s.violations });
  if (s.requestId) details.push({ '@type': REQUEST_INFO_TYPE_URL, requestId: s.requestId });
  return { code: s.code, message: s.message, details };
}

/** Reads a protobuf Status back (tests, and clients written against this service). */
export function decodeStatus(bytes: Uint8Array): RpcStatus {
  const st = StatusType.toObject(StatusType.decode(bytes), { defaults: true }) as { code: number; message: string; details: { type_url: string; value: Uint8Array }[] };
  const out: RpcStatus = { code: st.code, message: st.message, violations: [] };
  for (const d of st.details) {
    if (d.type_url === BAD_REQUEST_TYPE_URL) {
      const br = BadRequestType.toObject(BadRequestType.decode(d.value), { defaults: true }) as { field_violations: { field: string; description: string }[] };
      out.violations.push(...br.field_violations);
    } else if (d.type_url === REQUEST_INFO_TYPE_URL) {
      out.requestId = (RequestInfoType.toObject(RequestInfoType.decode(d.value)) as { request_id?: string }).request_id;
    }
  }
  return out;
}
