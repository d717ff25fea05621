import { randomBytes } from 'node:crypto';
import { ChannelInputSchema } from '@agentmon/contracts';
import { NotificationConfigSchema } from './config.js';

const key = randomBytes(32).toString('base64');

describe('notification config', () => {
  it('has the documented defaults', () => {
    const c = NotificationConfigSchema.parse({ NOTIFICATION_ENCRYPTION_KEY: key });
    expect(c).toMatchObject({
      PORT: 8005,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/agentmon_notification',
      DASHBOARD_URL: 'http://localhost:3000',
      SMTP_FROM: 'agentmon <agentmon@localhost>',
      MAX_ATTEMPTS: 8,
      DELIVERY_TIMEOUT_MS: 10_000,
    });
    expect(c.SMTP_URL).toBeUndefined();
    expect(NotificationConfigSchema.parse({ NOTIFICATION_ENCRYPTION_KEY: key, SMTP_URL: '' }).SMTP_URL).toBeUndefined();
  });

  it('refuses to start without a usable encryption key, saying what is expected but not echoing the value', () => {
    for (const env of [{}, { NOTIFICATION_ENCRYPTION_KEY: 'short' }, { NOTIFICATION_ENCRYPTION_KEY: randomBytes(24).toString('base64') }]) {
      const res = NotificationConfigSchema.safeParse(env);
      expect(res.success).toBe(false);
      const issue = res.error!.issues.find((i) => i.path[0] === 'NOTIFICATION_ENCRYPTION_KEY');
      expect(issue?.message).toMatch(/base64 of exactly 32 bytes/);
      if ('NOTIFICATION_ENCRYPTION_KEY' in env) expect(issue?.message).not.toContain(env.NOTIFICATION_ENCRYPTION_KEY);
    }
  });

  it('refuses bad URLs and limits', () => {
    const res = NotificationConfigSchema.safeParse({
      NOTIFICATION_ENCRYPTION_KEY: key,
      DASHBOARD_URL: 'ftp://x',
      SMTP_URL: 'http://mail',
      MAX_ATTEMPTS: '0',
    });
    expect(res.success).toBe(false);
    expect(res.error!.issues.map((i) => i.path[0]).sort()).toEqual(['DASHBOARD_URL', 'MAX_ATTEMPTS', 'SMTP_URL']);
  });
});

describe('channel input', () => {
  const webhook = (headers: Record<string, string>) => ({ name: 'h', type: 'webhook', config: { url: 'https://example.com/h', headers } });
  it('takes ordinary custom headers', () => {
    expect(ChannelInputSchema.safeParse(webhook({ Authorization: 'Bearer x', 'X-Team': 'search' })).success).toBe(true);
  });
  it('refuses header injection, bad names and headers agentmon sets', () => {
    const cases: Record<string, string>[] = [{ 'X-A': 'a\r\nX-Injected: 1' }, { 'Bad Name': 'x' }, { 'content-type': 'text/plain' }, { Host: 'evil' }];
    for (const headers of cases) {
      const res = ChannelInputSchema.safeParse(webhook(headers));
      expect(res.success).toBe(false);
      expect(res.error!.issues[0]!.path.slice(0, 2)).toEqual(['config', 'headers']);
    }
  });
  it('takes only http(s) URLs for hooks and smtp(s) for email', () => {
    expect(ChannelInputSchema.safeParse({ name: 's', type: 'slack', config: { webhook_url: 'file:///etc/passwd' } }).success).toBe(false);
    expect(ChannelInputSchema.safeParse({ name: 'e', type: 'email', config: { to: ['a@b.co'], smtp_url: 'http://mail' } }).success).toBe(false);
    expect(ChannelInputSchema.safeParse({ name: 'e', type: 'email', config: { to: ['a@b.co'], smtp_url: 'smtps://u:p@mail:465' } }).success).toBe(true);
  });
});
