import type { Alert } from '@agentmon/contracts';
import type { AlertInstanceEntity } from './alert-instance.entity.js';

/** The contract's view of an alert. */
export function toAlertDto(e: AlertInstanceEntity): Alert {
  return {
    id: e.id,
    rule_id: e.ruleId,
    rule_name: e.ruleName,
    agent_id: e.agentId,
    status: e.status,
    severity: e.severity,
    value: e.value,
    threshold: e.threshold,
    summary: e.summary,
    labels: e.labels,
    started_at: e.startedAt.toISOString(),
    fired_at: e.firedAt?.toISOString() ?? null,
    resolved_at: e.resolvedAt?.toISOString() ?? null,
    acknowledged_by: e.acknowledgedBy,
    acknowledged_at: e.acknowledgedAt?.toISOString() ?? null,
  };
}

/** The alert as it was when it started firing (what the fired event carries, even when sent late). */
export function firedSnapshot(e: AlertInstanceEntity): Alert {
  return {
    ...toAlertDto(e),
    status: 'firing',
    value: e.firedValue,
    summary: e.firedSummary ?? e.summary,
    resolved_at: null,
  };
}

const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 } as const;
export function severityRank(s: keyof typeof SEVERITY_RANK): number {
  return SEVERITY_RANK[s];
}
