import { z } from 'zod';
import { AgentIdSchema, DurationSchema, PrincipalSchema, TagsSchema, pageOf, PageQuerySchema, OkSchema } from './common.js';

export const SeveritySchema = z.enum(['info', 'warning', 'critical']);
export type Severity = z.infer<typeof SeveritySchema>;

export const ThresholdConditionSchema = z.object({
  type: z.literal('threshold'),
  measurement: z.string().min(1).max(256),
  field: z.string().min(1).max(256),
  aggregation: z.enum(['last', 'avg', 'min', 'max', 'sum', 'count', 'rate']).default('last'),
  window: DurationSchema.default('1m'),
  op: z.enum(['>', '>=', '<', '<=', '==', '!=']),
  value: z.number(),
});
export const AbsenceConditionSchema = z.object({
  type: z.literal('absence'),
  measurement: z.string().min(1).max(256).optional(),
  for: DurationSchema,
});
export type ThresholdCondition = z.infer<typeof ThresholdConditionSchema>;
export type AbsenceCondition = z.infer<typeof AbsenceConditionSchema>;
export type CompositeCondition = { type: 'composite'; op: 'and' | 'or'; conditions: Condition[] };
export type Condition = ThresholdCondition | AbsenceCondition | CompositeCondition;

export const ConditionSchema: z.ZodType<Condition, any> = z.lazy(() =>
  z.discriminatedUnion('type', [
    ThresholdConditionSchema,
    AbsenceConditionSchema,
    z.object({
      type: z.literal('composite'),
      op: z.enum(['and', 'or']),
      conditions: z.array(ConditionSchema).min(1).max(20),
    }),
  ]),
);

export const RuleScopeSchema = z.object({
  group_ids: z.array(z.string()).optional(),
  agent_ids: z.array(AgentIdSchema).optional(),
  tags: TagsSchema.optional(),
});

export const RuleInputSchema = z.object({
  name: z.string().min(1).max(256),
  description: z.string().max(2048).optional(),
  severity: SeveritySchema.default('warning'),
  enabled: z.boolean().default(true),
  for: DurationSchema.default('0s'),
  scope: RuleScopeSchema.default({}),
  condition: ConditionSchema,
  labels: TagsSchema.default({}),
  group_by: z.array(z.string().min(1)).optional(),
  channels: z.array(z.uuid()).default([]),
  escalation_policy_id: z.uuid().nullable().default(null),
});
export type RuleInput = z.infer<typeof RuleInputSchema>;
export const AlertRuleSchema = RuleInputSchema.extend({
  id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type AlertRule = z.infer<typeof AlertRuleSchema>;

export const AlertStatusSchema = z.enum(['pending', 'firing', 'resolved']);
export const AlertSchema = z.object({
  id: z.string(),
  rule_id: z.string(),
  rule_name: z.string(),
  agent_id: z.string(),
  status: AlertStatusSchema,
  severity: SeveritySchema,
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  summary: z.string(),
  labels: z.record(z.string(), z.string()),
  started_at: z.string(),
  fired_at: z.string().nullable(),
  resolved_at: z.string().nullable(),
  acknowledged_by: z.string().nullable(),
  acknowledged_at: z.string().nullable(),
});
export type Alert = z.infer<typeof AlertSchema>;

/** Published on the EVENTS stream when an alert starts firing or resolves. */
export const AlertEventSchema = z.object({
  alert: AlertSchema,
  rule: z.object({ id: z.string(), name: z.string(), channels: z.array(z.string()), condition: z.unknown() }),
});
export type AlertEvent = z.infer<typeof AlertEventSchema>;

/**
 * Open alerts: `firing` and `pending` ones (a pending alert is a condition that holds but not yet for
 * the rule's `for`), ordered by severity (critical first), then by started_at (newest first).
 */
export const AlertActiveQuerySchema = z.object({
  severity: SeveritySchema.optional(),
  agent_id: AgentIdSchema.optional(),
  /** agents that were members of this group when the alert started */
  group_id: z.string().optional(),
});
/** Alert history, newest started_at first, keyset-paged. `from`/`to` bound started_at. */
export const AlertListQuerySchema = PageQuerySchema.extend({
  status: AlertStatusSchema.optional(),
  /** epoch ms */
  from: z.number().int().optional(),
  to: z.number().int().optional(),
  severity: SeveritySchema.optional(),
  agent_id: AgentIdSchema.optional(),
  rule_id: z.string().optional(),
});

export const alertingRpc = {
  'rpc.alerting.rule.create.v1': { request: z.object({ principal: PrincipalSchema, rule: RuleInputSchema }), response: AlertRuleSchema },
  'rpc.alerting.rule.list.v1': { request: PageQuerySchema, response: pageOf(AlertRuleSchema) },
  'rpc.alerting.rule.get.v1': { request: z.object({ id: z.string() }), response: AlertRuleSchema },
  'rpc.alerting.rule.update.v1': {
    request: z.object({ principal: PrincipalSchema, id: z.string(), rule: RuleInputSchema }),
    response: AlertRuleSchema,
  },
  'rpc.alerting.rule.delete.v1': { request: z.object({ principal: PrincipalSchema, id: z.string() }), response: OkSchema },
  'rpc.alerting.alert.active.v1': { request: AlertActiveQuerySchema, response: z.object({ items: z.array(AlertSchema), next_cursor: z.null() }) },
  'rpc.alerting.alert.list.v1': { request: AlertListQuerySchema, response: pageOf(AlertSchema) },
  'rpc.alerting.alert.get.v1': { request: z.object({ id: z.string() }), response: AlertSchema },
  'rpc.alerting.alert.ack.v1': { request: z.object({ principal: PrincipalSchema, id: z.string() }), response: AlertSchema },
} as const;
