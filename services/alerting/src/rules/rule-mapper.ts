import type { AlertRule } from '@agentmon/contracts';
import type { AlertRuleEntity } from './alert-rule.entity.js';

/** The contract's view of a rule. */
export function toRuleDto(e: AlertRuleEntity): AlertRule {
  return {
    id: e.id,
    name: e.name,
    ...(e.description !== null ? { description: e.description } : {}),
    severity: e.severity,
    enabled: e.enabled,
    for: e.forDuration,
    scope: e.scope,
    condition: e.condition,
    labels: e.labels,
    ...(e.groupBy !== null ? { group_by: e.groupBy } : {}),
    channels: e.channels,
    escalation_policy_id: e.escalationPolicyId,
    created_at: e.createdAt.toISOString(),
    updated_at: e.updatedAt.toISOString(),
  };
}
