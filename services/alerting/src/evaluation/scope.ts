import type { RuleScope } from '../rules/alert-rule.entity.js';

/** Whether checking the scope needs the agent's tags or groups from the registry. */
export function scopeNeedsAgentFacts(scope: RuleScope): boolean {
  return Object.keys(scope.tags ?? {}).length > 0 || (scope.group_ids?.length ?? 0) > 0;
}

/**
 * Whether an agent falls in a rule's scope. Every given part must hold: the agent is one of
 * agent_ids, carries every tag of tags, and belongs to at least one of group_ids. An empty scope
 * means every agent.
 */
export function agentInScope(
  scope: RuleScope,
  agentId: string,
  facts?: { tags: Record<string, string>; groups: string[] },
): boolean {
  if (scope.agent_ids?.length && !scope.agent_ids.includes(agentId)) return false;
  const tags = Object.entries(scope.tags ?? {});
  if (tags.length > 0) {
    if (!facts) return false;
    if (!tags.every(([k, v]) => facts.tags[k] === v)) return false;
  }
  if (scope.group_ids?.length) {
    if (!facts) return false;
    if (!scope.group_ids.some((g) => facts.groups.includes(g))) return false;
  }
  return true;
}
