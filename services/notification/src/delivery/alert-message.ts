import { randomUUID } from 'node:crypto';
import { ThresholdConditionSchema, type Alert, type AlertEvent, type NotificationEvent } from '@agentmon/contracts';

/**
 * Everything a notification says, independent of the channel: what fired, on which agent, the value
 * against the threshold, and where to look in the dashboard.
 */
export interface AlertMessage {
  event: NotificationEvent;
  alert: Alert;
  rule: AlertEvent['rule'];
  /** `[FIRING] CPU hot on agent-7` */
  title: string;
  /** `avg(agent_metrics.cpu_usage) over 1m is 95.2 (threshold > 90)` */
  condition_text: string;
  /** plain-text body, several lines */
  text: string;
  alert_url: string;
  agent_url: string;
  /** RFC 3339 time of the event: fired_at/started_at, resolved_at, or now for a test */
  at: string;
}

const EVENT_LABEL: Record<NotificationEvent, string> = { firing: 'FIRING', resolved: 'RESOLVED', test: 'TEST' };

export function formatNumber(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return 'no value';
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: 4, useGrouping: false }).format(value);
}

function describeCondition(event: AlertEvent): string {
  const { alert, rule } = event;
  const threshold = ThresholdConditionSchema.safeParse(rule.condition);
  if (threshold.success) {
    const c = threshold.data;
    const subject = `${c.aggregation}(${c.measurement}.${c.field}) over ${c.window}`;
    const limit = alert.threshold ?? c.value;
    return `${subject} is ${formatNumber(alert.value)} (threshold ${c.op} ${formatNumber(limit)})`;
  }
  const kind = (rule.condition as { type?: unknown } | null)?.type;
  if (kind === 'absence') return `no data from the agent (${alert.summary || 'absence'})`;
  if (alert.threshold !== null) return `value ${formatNumber(alert.value)} against threshold ${formatNumber(alert.threshold)}`;
  return alert.value === null ? 'condition met' : `value ${formatNumber(alert.value)}`;
}

export function buildAlertMessage(event: AlertEvent, kind: NotificationEvent, dashboardUrl: string, now = new Date()): AlertMessage {
  const { alert, rule } = event;
  const base = dashboardUrl.replace(/\/+$/, '');
  const alertUrl = `${base}/alerts/${encodeURIComponent(alert.id)}`;
  const agentUrl = `${base}/agents/${encodeURIComponent(alert.agent_id)}`;
  const at = kind === 'resolved' ? (alert.resolved_at ?? now.toISOString()) : kind === 'firing' ? (alert.fired_at ?? alert.started_at) : now.toISOString();
  const title = `[${EVENT_LABEL[kind]}] ${alert.rule_name || rule.name} on ${alert.agent_id}`;
  const conditionText = describeCondition(event);
  const lines = [
    kind === 'resolved'
      ? `Alert "${alert.rule_name || rule.name}" on agent ${alert.agent_id} is resolved.`
      : kind === 'test'
        ? `This is a test notification from agentmon for "${alert.rule_name || rule.name}".`
        : `Alert "${alert.rule_name || rule.name}" is firing on agent ${alert.agent_id}.`,
    `Severity: ${alert.severity}`,
    `${kind === 'resolved' ? 'Last value' : 'Value'}: ${conditionText}`,
    ...(alert.summary ? [`Summary: ${alert.summary}`] : []),
    ...Object.keys(alert.labels).length ? [`Labels: ${Object.entries(alert.labels).map(([k, v]) => `${k}=${v}`).join(', ')}`] : [],
    `Started: ${alert.started_at}`,
    ...(kind === 'resolved' && alert.resolved_at ? [`Resolved: ${alert.resolved_at}`] : []),
    `Dashboard: ${alertUrl}`,
  ];
  return { event: kind, alert, rule, title, condition_text: conditionText, text: lines.join('\n'), alert_url: alertUrl, agent_url: agentUrl, at };
}

/** A made-up alert for `channel.test`: clearly labelled as a test, never a real alert id. */
export function testAlertEvent(channelName: string, now = new Date()): AlertEvent {
  const at = now.toISOString();
  return {
    alert: {
      id: `test-${randomUUID()}`,
      rule_id: 'test',
      rule_name: 'agentmon test notification',
      agent_id: 'agentmon-test-agent',
      status: 'firing',
      severity: 'info',
      value: 42,
      threshold: 40,
      summary: `Test notification for channel "${channelName}"; no action needed.`,
      labels: {},
      started_at: at,
      fired_at: at,
      resolved_at: null,
      acknowledged_by: null,
      acknowledged_at: null,
    },
    rule: {
      id: 'test',
      name: 'agentmon test notification',
      channels: [],
      condition: { type: 'threshold', measurement: 'agent_metrics', field: 'cpu_usage', aggregation: 'last', window: '1m', op: '>', value: 40 },
    },
  };
}
