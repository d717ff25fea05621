import { z } from 'zod';
import { authRpc, RevocationEventSchema } from './auth.js';
import { auditRpc, AuditEventSchema } from './audit.js';
import { registryRpc, AgentStatusChangedSchema, AgentSchema } from './registry.js';
import { ingestRpc, TelemetryAgentsSchema } from './ingest.js';
import { TelemetryLines } from './telemetry-lines.js';
import { alertingRpc, AlertEventSchema } from './alerting.js';
import { notificationRpc } from './notification.js';
import { healthRpc } from './health.js';

/**
 * Every request/reply subject with its request and response schema.
 * Naming: rpc.<owning service>.<resource>.<verb>.v<version>. A breaking change is a new version.
 */
export const RPC = {
  ...authRpc,
  ...auditRpc,
  ...registryRpc,
  ...ingestRpc,
  ...alertingRpc,
  ...notificationRpc,
  ...healthRpc,
} as const;
export type RpcMap = typeof RPC;
export type RpcSubject = keyof RpcMap;
/** What a caller passes (before defaults are applied). */
export type RpcRequest<S extends RpcSubject> = z.input<RpcMap[S]['request']>;
/** What a handler receives (after parsing). */
export type RpcParsedRequest<S extends RpcSubject> = z.output<RpcMap[S]['request']>;
export type RpcResponse<S extends RpcSubject> = z.output<RpcMap[S]['response']>;
export type RpcResponseInput<S extends RpcSubject> = z.input<RpcMap[S]['response']>;

/**
 * JetStream streams. Event subjects start with `evt.`, never `rpc.`, so that a stream never
 * captures a request.
 */
export const STREAMS = {
  TELEMETRY: { name: 'AGENTMON_TELEMETRY', subjects: ['evt.ingest.telemetry.>'] },
  EVENTS: { name: 'AGENTMON_EVENTS', subjects: ['evt.registry.>', 'evt.alerting.>'] },
  AUDIT: { name: 'AGENTMON_AUDIT', subjects: ['evt.audit.>'] },
  /** revocations: read by every gateway and ingest replica with its own ordered consumer */
  AUTH: { name: 'AGENTMON_AUTH', subjects: ['evt.auth.>'] },
} as const;
export type StreamKey = keyof typeof STREAMS;

/** Every durable event subject with its stream and payload schema. */
export const EVENTS = {
  /** accepted points as line protocol in the stream's normal form; not JSON (see TelemetryLines) */
  'evt.ingest.telemetry.lines.v1': { stream: 'TELEMETRY', schema: z.instanceof(TelemetryLines), codec: 'lines' },
  /** the same, Brotli-compressed (ingest sends large messages so; see compressLines) */
  'evt.ingest.telemetry.lines.br.v1': { stream: 'TELEMETRY', schema: z.instanceof(TelemetryLines), codec: 'lines-br' },
  'evt.ingest.telemetry.agents.v1': { stream: 'TELEMETRY', schema: TelemetryAgentsSchema },
  'evt.registry.agent.status-changed.v1': { stream: 'EVENTS', schema: AgentStatusChangedSchema },
  'evt.registry.agent.registered.v1': { stream: 'EVENTS', schema: AgentSchema },
  'evt.alerting.alert.fired.v1': { stream: 'EVENTS', schema: AlertEventSchema },
  'evt.alerting.alert.resolved.v1': { stream: 'EVENTS', schema: AlertEventSchema },
  'evt.audit.recorded.v1': { stream: 'AUDIT', schema: AuditEventSchema },
  'evt.auth.revoked.v1': { stream: 'AUTH', schema: RevocationEventSchema },
} as const satisfies Record<string, { stream: StreamKey; schema: z.ZodType; codec?: 'lines' | 'lines-br' }>;
export type EventMap = typeof EVENTS;
export type EventSubject = keyof EventMap;
export type EventPayload<S extends EventSubject> = z.output<EventMap[S]['schema']>;
export type EventPayloadInput<S extends EventSubject> = z.input<EventMap[S]['schema']>;

/** NATS headers carried on every message. */
export const HEADERS = {
  requestId: 'x-request-id',
} as const;
