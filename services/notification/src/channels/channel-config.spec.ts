import { maskUrl, publicConfig, withoutCredentials } from './channel-config.js';

describe('public view of a channel config', () => {
  it('webhook: URL shown, secret and header values hidden', () => {
    const view = publicConfig({
      name: 'hook',
      type: 'webhook',
      config: { url: 'https://user:pw@hooks.example.com/in?x=1', secret: 'topsecret', headers: { Authorization: 'Bearer abc' } },
    });
    expect(view).toEqual({ url: 'https://***@hooks.example.com/in?x=1', has_secret: true, header_names: ['Authorization'] });
    expect(JSON.stringify(view)).not.toMatch(/topsecret|Bearer abc|pw@/);
    expect(publicConfig({ name: 'h', type: 'webhook', config: { url: 'http://h.example/x' } })).toEqual({
      url: 'http://h.example/x',
      has_secret: false,
      header_names: [],
    });
  });

  it('slack and teams: URL masked to scheme and host', () => {
    const view = publicConfig({ name: 's', type: 'slack', config: { webhook_url: 'https://hooks.slack.com/services/T0/B0/XXXX' } });
    expect(view).toEqual({ has_webhook_url: true, webhook_url_masked: 'https://hooks.slack.com/***' });
    expect(publicConfig({ name: 't', type: 'teams', config: { webhook_url: 'https://contoso.webhook.office.com:8443/webhookb2/abc' } })).toEqual({
      has_webhook_url: true,
      webhook_url_masked: 'https://contoso.webhook.office.com:8443/***',
    });
  });

  it('email: recipients shown, SMTP credentials hidden', () => {
    const view = publicConfig({ name: 'e', type: 'email', config: { to: ['ops@example.com'], smtp_url: 'smtps://u:p4ss@mail.example.com:465' } });
    expect(view).toEqual({ to: ['ops@example.com'], has_smtp_url: true, smtp_url_masked: 'smtps://mail.example.com:465' });
    expect(publicConfig({ name: 'e', type: 'email', config: { to: ['a@b.co'] } })).toEqual({ to: ['a@b.co'], has_smtp_url: false });
  });

  it('helpers', () => {
    expect(maskUrl('http://127.0.0.1:9000/a/b?c')).toBe('http://127.0.0.1:9000/***');
    expect(withoutCredentials('https://example.com/a')).toBe('https://example.com/a');
  });
});
