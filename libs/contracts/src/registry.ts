import { z } from 'zod';
import { AgentIdSchema, PrincipalSchema, TagsSchema, pageOf, PageQuerySchema, OkSchema } from './common.js';

export const AgentStatusSchema = z.enum(['online', 'offline', 'degraded']);
export type AgentStatus = z.infer<typeof AgentStatusSchema>;

/** What an agent says about itself in a JSON batch (all but id optional). */
export const AgentInfoSchema = z.object({
  id: AgentIdSchema,
  name: z.string().max(256).optional(),
  type: z.string().max(128).optional(),
  version: z.string().max(128).optional(),
  host: z.string().max(256).optional(),
  region: z.string().max(128).optional(),
  tags: TagsSchema.optional(),
});
export type AgentInfo = z.infer<typeof AgentInfoSchema>;

export const AgentSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string().nullable(),
  version: z.string().nullable(),
  host: z.string().nullable(),
  region: z.string().nullable(),
  status: AgentStatusSchema,
  last_seen: z.string().nullable(),
  tags: z.record(z.string(), z.string()),
  groups: z.array(z.string()),
  config_version: z.number().int().nullable(),
  created_at: z.string(),
});
export type Agent = z.infer<typeof AgentSchema>;

export const AgentListQuerySchema = PageQuerySchema.extend({
  status: AgentStatusSchema.optional(),
  group: z.string().max(128).optional(),
  /** key:value */
  tag: z.string().regex(/^[^:]+:.*$/, 'must be key:value').optional(),
  q: z.string().max(256).optional(),
});
export const CreateAgentSchema = AgentInfoSchema;
export const UpdateAgentSchema = AgentInfoSchema.omit({ id: true }).refine((v) => Object.keys(v).length > 0, 'nothing to update');

export const AgentConfigSchema = z.object({ version: z.number().int(), config: z.record(z.string(), z.unknown()) });
export type AgentConfig = z.infer<typeof AgentConfigSchema>;

export const HeartbeatSchema = z.object({
  status: z.enum(['ok', 'degraded']).optional(),
  version: z.string().max(128).optional(),
  config_version: z.number().int().nonnegative().optional(),
});

export const AgentStatusChangedSchema = z.object({
  agent_id: z.string(),
  from: AgentStatusSchema.nullable(),
  to: AgentStatusSchema,
  at: z.string(),
});
export type AgentStatusChanged = z.infer<typeof AgentStatusChangedSchema>;

export const registryRpc = {
  'rpc.registry.agent.list.v1': { request: AgentListQuerySchema, response: pageOf(AgentSchema) },
  'rpc.registry.agent.get.v1': { request: z.object({ id: AgentIdSchema }), response: AgentSchema },
  'rpc.registry.agent.create.v1': { request: z.object({ principal: PrincipalSchema, agent: CreateAgentSchema }), response: AgentSchema },
  'rpc.registry.agent.update.v1': {
    request: z.object({ principal: PrincipalSchema, id: AgentIdSchema, patch: UpdateAgentSchema }),
    response: AgentSchema,
  },
  'rpc.registry.agent.delete.v1': { request: z.object({ principal: PrincipalSchema, id: AgentIdSchema }), response: OkSchema },
  'rpc.registry.agent.config.get.v1': { request: z.object({ id: AgentIdSchema }), response: AgentConfigSchema },
  'rpc.registry.agent.config.put.v1': {
    request: z.object({ principal: PrincipalSchema, id: AgentIdSchema, config: z.record(z.string(), z.unknown()) }),
    response: AgentConfigSchema,
  },
  /** Agents by status, for the dashboard overview. */
  'rpc.registry.agent.counts.v1': {
    request: z.object({}),
    response: z.object({ total: z.number().int(), online: z.number().int(), offline: z.number().int(), degraded: z.number().int() }),
  },
  /** A heartbeat without points (ingest port). */
  'rpc.registry.agent.heartbeat.v1': { request: HeartbeatSchema.extend({ agent_id: AgentIdSchema }), response: AgentSchema },
} as const;
