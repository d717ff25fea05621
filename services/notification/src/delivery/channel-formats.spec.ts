import type { AlertEvent } from '@agentmon/contracts';
import { buildAlertMessage, formatNumber, testAlertEvent } from './alert-message.js';
import { emailContent, slackPayload, teamsPayload, webhookPayload } from './channel-formats.js';

function firedEvent(over: Partial<AlertEvent['alert']> = {}, condition: unknown = undefined): AlertEvent {
  return {
    alert: {
      id: '5f0c7d1e-0000-4000-8000-000000000001',
      rule_id: 'r1',
      rule_name: 'CPU hot',
      agent_id: 'agent-7',
      status: 'firing',
      severity: 'critical',
      value: 95.23456,
      threshold: 90,
      summary: 'cpu_usage above 90 for 1m',
      labels: { team: 'search' },
      started_at: '2026-11-27T12:00:00.000Z',
      fired_at: '2026-11-27T12:01:00.000Z',
      resolved_at: null,
      acknowledged_by: null,
      acknowledged_at: null,
      ...over,
    },
    rule: {
      id: 'r1',
      name: 'CPU hot',
      channels: ['c1'],
      condition: condition ?? { type: 'threshold', measurement: 'agent_metrics', field: 'cpu_usage', aggregation: 'avg', window: '1m', op: '>', value: 90 },
    },
  };
}

describe('alert message', () => {
  it('says what fired, on which agent, value against threshold, with a dashboard link', () => {
    const msg = buildAlertMessage(firedEvent(), 'firing', 'https://mon.example.com/');
    expect(msg.title).toBe('[FIRING] CPU hot on agent-7');
    expect(msg.condition_text).toBe('avg(agent_metrics.cpu_usage) over 1m is 95.2346 (threshold > 90)');
    expect(msg.alert_url).toBe('https://mon.example.com/alerts/5f0c7d1e-0000-4000-8000-000000000001');
    expect(msg.agent_url).toBe('https://mon.example.com/agents/agent-7');
    expect(msg.at).toBe('2026-11-27T12:01:00.000Z');
    expect(msg.text).toContain('is firing on agent agent-7');
    expect(msg.text).toContain('Severity: critical');
    expect(msg.text).toContain('Labels: team=search');
    expect(msg.text).toContain('Dashboard: https://mon.example.com/alerts/');
  });

  it('words a resolved alert as resolved, with its time', () => {
    const ev = firedEvent({ status: 'resolved', value: 42, resolved_at: '2026-11-27T12:10:00.000Z' });
    const msg = buildAlertMessage(ev, 'resolved', 'http://localhost:3000');
    expect(msg.title).toBe('[RESOLVED] CPU hot on agent-7');
    expect(msg.text).toContain('is resolved');
    expect(msg.text).toContain('Last value: avg(agent_metrics.cpu_usage) over 1m is 42 (threshold > 90)');
    expect(msg.text).toContain('Resolved: 2026-11-27T12:10:00.000Z');
    expect(msg.at).toBe('2026-11-27T12:10:00.000Z');
  });

  it('describes absence and composite conditions without a threshold', () => {
    const absence = buildAlertMessage(
      firedEvent({ value: null, threshold: null, summary: 'no data for 2m' }, { type: 'absence', for: '2m' }),
      'firing',
      'http://d',
    );
    expect(absence.condition_text).toBe('no data from the agent (no data for 2m)');
    const composite = buildAlertMessage(
      firedEvent({ value: 3, threshold: null }, { type: 'composite', op: 'and', conditions: [] }),
      'firing',
      'http://d',
    );
    expect(composite.condition_text).toBe('value 3');
  });

  it('formats numbers readably', () => {
    expect(formatNumber(1234567.891234)).toBe('1234567.8912');
    expect(formatNumber(null)).toBe('no value');
    expect(formatNumber(Number.NaN)).toBe('no value');
  });

  it('labels a test notification as a test', () => {
    const msg = buildAlertMessage(testAlertEvent('ops hook'), 'test', 'http://d');
    expect(msg.title).toMatch(/^\[TEST\] /);
    expect(msg.alert.id).toMatch(/^test-/);
    expect(msg.text).toContain('test notification');
  });
});

describe('channel bodies', () => {
  const msg = buildAlertMessage(firedEvent({ agent_id: 'agent-<7>', summary: 'a & b <!channel>' }), 'firing', 'http://localhost:3000');

  it('webhook: the alert, the rule, the event and the dashboard link', () => {
    const body = webhookPayload(msg, new Date('2026-11-27T12:01:01.000Z'));
    expect(body).toMatchObject({
      version: 1,
      event: 'firing',
      dashboard_url: msg.alert_url,
      alert: { id: msg.alert.id, agent_id: 'agent-<7>', value: 95.23456 },
      rule: { id: 'r1', name: 'CPU hot' },
      sent_at: '2026-11-27T12:01:01.000Z',
    });
    expect(JSON.parse(JSON.stringify(body))).toEqual(body);
  });

  it('slack: text plus blocks, user text escaped so it cannot ping or link', () => {
    const body = slackPayload(msg);
    expect(body.text).toContain('[FIRING] CPU hot on agent-&lt;7&gt;');
    expect(body.text).toContain(`<${msg.alert_url}|Open in agentmon>`);
    expect(body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: msg.title, emoji: true } });
    const json = JSON.stringify(body.blocks);
    expect(json).not.toContain('<!channel>');
    expect(json).toContain('a &amp; b &lt;!channel&gt;');
    expect(json).toContain('threshold > 90'.replace('>', '&gt;'));
    expect(body.blocks.at(-1)).toEqual({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in agentmon' }, url: msg.alert_url }],
    });
  });

  it('teams: a message with an Adaptive Card and a link to the dashboard', () => {
    const body = teamsPayload(msg);
    expect(body.type).toBe('message');
    const card = body.attachments[0]!;
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.content.type).toBe('AdaptiveCard');
    expect(card.content.body[0]).toMatchObject({ type: 'TextBlock', text: msg.title, color: 'Attention' });
    expect(card.content.body[2]).toMatchObject({ type: 'FactSet', facts: expect.arrayContaining([{ title: 'Agent', value: 'agent-<7>' }]) });
    expect(card.content.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open in agentmon', url: msg.alert_url }]);
    const resolved = teamsPayload(buildAlertMessage(firedEvent({ resolved_at: '2026-11-27T13:00:00.000Z' }), 'resolved', 'http://x'));
    expect(resolved.attachments[0]!.content.body[0]).toMatchObject({ color: 'Good' });
  });

  it('email: subject is the title on one line, HTML is escaped', () => {
    const mail = emailContent(buildAlertMessage(firedEvent({ agent_id: 'a\r\nBcc: x@evil' }), 'firing', 'http://x'));
    expect(mail.subject).not.toMatch(/[\r\n]/);
    const html = emailContent(msg).html;
    expect(html).toContain('agent-&lt;7&gt;');
    expect(html).not.toContain('<!channel>');
    expect(html).toContain(`<a href="${msg.alert_url}">Open in agentmon</a>`);
    expect(emailContent(msg).text).toBe(msg.text);
  });
});
