import type { AlertMessage } from './alert-message.js';

/**
 * The body each kind of channel expects, built from one AlertMessage. Pure functions: what is sent
 * can be checked without a network.
 */

/** JSON body of a webhook request (the receiver verifies X-Agentmon-Signature over these bytes). */
export function webhookPayload(msg: AlertMessage, sentAt = new Date()) {
  return {
    version: 1,
    event: msg.event,
    title: msg.title,
    text: msg.text,
    condition: msg.condition_text,
    dashboard_url: msg.alert_url,
    agent_url: msg.agent_url,
    alert: msg.alert,
    rule: { id: msg.rule.id, name: msg.rule.name, condition: msg.rule.condition },
    at: msg.at,
    sent_at: sentAt.toISOString(),
  };
}

const SLACK_ICON: Record<string, string> = { critical: ':red_circle:', warning: ':large_orange_circle:', info: ':large_blue_circle:' };

/** Slack's mrkdwn gives &, < and > a meaning; user text must not form links or mentions. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A Slack incoming-webhook message: `text` (notifications, fallback) plus Block Kit blocks. */
export function slackPayload(msg: AlertMessage) {
  const { alert } = msg;
  const icon = msg.event === 'resolved' ? ':white_check_mark:' : (SLACK_ICON[alert.severity] ?? ':bell:');
  const verb = msg.event === 'resolved' ? 'resolved on' : msg.event === 'test' ? 'test for' : 'firing on';
  const fields = [
    { type: 'mrkdwn', text: `*Severity*\n${alert.severity}` },
    { type: 'mrkdwn', text: `*Agent*\n<${msg.agent_url}|${slackEscape(alert.agent_id)}>` },
    { type: 'mrkdwn', text: `*${msg.event === 'resolved' ? 'Last value' : 'Value'}*\n${slackEscape(msg.condition_text)}` },
    { type: 'mrkdwn', text: `*${msg.event === 'resolved' ? 'Resolved' : 'Started'}*\n${msg.event === 'resolved' ? (alert.resolved_at ?? msg.at) : alert.started_at}` },
  ];
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(msg.title, 150), emoji: true } },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(`${icon} *${slackEscape(alert.rule_name || msg.rule.name)}* ${verb} *${slackEscape(alert.agent_id)}*`, 3000) },
    },
    { type: 'section', fields },
  ];
  if (alert.summary) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(slackEscape(alert.summary), 3000) }] });
  blocks.push({
    type: 'actions',
    elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in agentmon' }, url: msg.alert_url }],
  });
  return {
    text: truncate(`${icon} ${slackEscape(msg.title)}: ${slackEscape(msg.condition_text)} <${msg.alert_url}|Open in agentmon>`, 3000),
    blocks,
  };
}

const TEAMS_COLOR: Record<string, string> = { critical: 'Attention', warning: 'Warning', info: 'Accent' };

/**
 * A Teams message carrying an Adaptive Card: accepted by Teams incoming webhooks and by the
 * workflow ("Post to a channel when a webhook request is received") URLs that replace them.
 */
export function teamsPayload(msg: AlertMessage) {
  const { alert } = msg;
  const facts = [
    { title: 'Severity', value: alert.severity },
    { title: 'Agent', value: alert.agent_id },
    { title: msg.event === 'resolved' ? 'Last value' : 'Value', value: msg.condition_text },
    { title: 'Started', value: alert.started_at },
    ...(msg.event === 'resolved' && alert.resolved_at ? [{ title: 'Resolved', value: alert.resolved_at }] : []),
    ...Object.entries(alert.labels).map(([k, v]) => ({ title: k, value: v })),
  ];
  const body: Record<string, unknown>[] = [
    {
      type: 'TextBlock',
      text: msg.title,
      weight: 'Bolder',
      size: 'Medium',
      wrap: true,
      color: msg.event === 'resolved' ? 'Good' : (TEAMS_COLOR[alert.severity] ?? 'Default'),
    },
    { type: 'TextBlock', text: msg.condition_text, wrap: true },
    { type: 'FactSet', facts },
  ];
  if (alert.summary) body.push({ type: 'TextBlock', text: alert.summary, wrap: true, isSubtle: true });
  return {
    type: 'message',
    summary: msg.title,
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body,
          actions: [{ type: 'Action.OpenUrl', title: 'Open in agentmon', url: msg.alert_url }],
        },
      },
    ],
  };
}

export function htmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Subject, plain text and HTML of a notification email. */
export function emailContent(msg: AlertMessage): { subject: string; text: string; html: string } {
  const { alert } = msg;
  const rows: [string, string][] = [
    ['Severity', alert.severity],
    ['Agent', alert.agent_id],
    [msg.event === 'resolved' ? 'Last value' : 'Value', msg.condition_text],
    ['Started', alert.started_at],
    ...(msg.event === 'resolved' && alert.resolved_at ? ([['Resolved', alert.resolved_at]] as [string, string][]) : []),
    ...(alert.summary ? ([['Summary', alert.summary]] as [string, string][]) : []),
  ];
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<h2>${htmlEscape(msg.title)}</h2>`,
    '<table cellpadding="4">',
    ...rows.map(([k, v]) => `<tr><th align="left">${htmlEscape(k)}</th><td>${htmlEscape(v)}</td></tr>`),
    '</table>',
    `<p><a href="${htmlEscape(msg.alert_url)}">Open in agentmon</a></p>`,
    '</body></html>',
  ].join('');
  // header injection: a subject never carries line breaks
  return { subject: truncate(msg.title.replace(/[\r\n]+/g, ' '), 250), text: msg.text, html };
}
