import { z } from 'zod';
import { PrincipalSchema, PageQuerySchema, pageOf } from './common.js';

/** One audited fact. Every service publishes these on JetStream; auth stores them append-only. */
export const AuditEventSchema = z.object({
  id: z.uuid(),
  at: z.number().int(),
  actor: z.object({ kind: z.enum(['user', 'api_key', 'system', 'anonymous']), id: z.string(), username: z.string().optional() }),
  action: z.string().min(1),
  resource_type: z.string().min(1),
  resource_id: z.string().nullable(),
  outcome: z.enum(['success', 'failure']),
  ip: z.string().nullable().optional(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  service: z.string(),
  request_id: z.string().optional(),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;

export const AuditLogSchema = AuditEventSchema.omit({ at: true }).extend({ at: z.string() });
export const AuditQuerySchema = PageQuerySchema.extend({
  actor: z.string().optional(),
  action: z.string().optional(),
  resource_type: z.string().optional(),
  /** epoch ms; the gateway parses RFC 3339 or epoch ms from the query string */
  from: z.number().int().optional(),
  to: z.number().int().optional(),
});

export const auditRpc = {
  'rpc.auth.audit.list.v1': {
    request: z.object({ principal: PrincipalSchema, query: AuditQuerySchema }),
    response: pageOf(AuditLogSchema),
  },
} as const;
