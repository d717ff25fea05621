/**
 * Identity and access in the dashboard, in a real browser against the whole stack: an admin creates
 * a viewer on the Users page, mints an API key that is shown once, revokes it, finds both in the
 * audit log and logs out; the viewer is then offered neither Users nor the Audit log nor any write
 * action. Every page it visits is also kept as a screenshot in AGENTMON_BROWSER_ARTIFACTS.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eventually, http, launchChromium, readEnv, screenshot, step as stepWithScreenshot, type Env } from './support.js';

interface Alert {
  id: string;
  rule_id: string;
  agent_id: string;
  status: string;
}

describe('identity and access in the dashboard', () => {
  let env: Env;
  let adminToken: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const suffix = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const viewer = { username: `viewer-${suffix}`, email: `viewer-${suffix}@example.test`, password: `viewer-pass-${suffix}` };
  const keyName = `browser key ${suffix}`;
  const agentId = `browser-access-${suffix}`;
  let ingestKey: { id: string; key: string } | undefined;
  let ruleId: string | undefined;
  let alertId: string;
  let mintedKey: string;
  let mintedKeyId: string | undefined;

  const step = (name: string, fn: () => Promise<void>) => stepWithScreenshot(page, `access-${name}-${suffix}`, fn);
  const nav = () => page.getByRole('navigation', { name: 'Main' });
  const adminLogin = async () => {
    const res = await http<{ access_token: string }>('POST', `${env.gateway}/api/v2/auth/login`, { body: { username: 'admin', password: env.adminPassword } });
    expect(res.status).toBe(200);
    return res.body.access_token;
  };
  const logInThroughForm = async (username: string, password: string) => {
    await page.goto(`${env.web}/login`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  };
  const goTo = async (label: string, path: string) => {
    await nav().getByRole('link', { name: label }).click();
    await page.waitForURL((u) => u.pathname === path);
  };

  beforeAll(async () => {
    env = readEnv();
    adminToken = await adminLogin();

    // A firing alert, so that the alert pages have a write action (Acknowledge) to show or hide.
    const key = await http<{ id: string; key: string }>('POST', `${env.gateway}/api/v2/api-keys`, {
      token: adminToken,
      body: { name: `browser-access-ingest-${suffix}`, permissions: ['ingest:write'] },
    });
    expect(key.status).toBe(201);
    ingestKey = { id: key.body.id, key: key.body.key };
    const rule = await http<{ id: string }>('POST', `${env.gateway}/api/v2/alerts/rules`, {
      token: adminToken,
      body: {
        name: `Browser access CPU ${suffix}`,
        severity: 'warning',
        for: '0s',
        scope: { agent_ids: [agentId] },
        condition: { type: 'threshold', measurement: 'agent_metrics', field: 'cpu_usage', aggregation: 'last', window: '1m', op: '>', value: 90 },
      },
    });
    expect(rule.status).toBe(201);
    ruleId = rule.body.id;
    const firing = await eventually(
      async () => {
        const push = await http('POST', `${env.ingest}/api/v2/ingest`, {
          token: ingestKey?.key,
          body: { agent: { id: agentId, name: `Browser access ${suffix}` }, points: [{ measurement: 'agent_metrics', fields: { cpu_usage: 97.5, memory_usage: 40 } }] },
        });
        expect(push.status).toBe(202);
        const active = await http<{ items: Alert[] }>('GET', `${env.gateway}/api/v2/alerts/active?agent_id=${encodeURIComponent(agentId)}`, { token: adminToken });
        const alert = active.body.items.find((a) => a.rule_id === ruleId && a.status === 'firing');
        expect(alert).toBeDefined();
        return alert as Alert;
      },
      60_000,
      1_000,
    );
    alertId = firing.id;

    browser = await launchChromium();
    // Clipboard access lets the test check what the Copy button put there.
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (!env) return;
    const token = await adminLogin().catch(() => null);
    if (!token) return;
    if (ruleId) await http('DELETE', `${env.gateway}/api/v2/alerts/rules/${encodeURIComponent(ruleId)}`, { token });
    if (ingestKey) await http('DELETE', `${env.gateway}/api/v2/api-keys/${encodeURIComponent(ingestKey.id)}`, { token });
    if (mintedKeyId) await http('DELETE', `${env.gateway}/api/v2/api-keys/${encodeURIComponent(mintedKeyId)}`, { token });
    await http('DELETE', `${env.gateway}/api/v2/agents/${encodeURIComponent(agentId)}`, { token });
    // Users cannot be deleted (CONTRACT.md): the viewer is deactivated so that it cannot sign in.
    const users = await http<{ items: Array<{ id: string; username: string }> }>('GET', `${env.gateway}/api/v2/users?limit=1000`, { token });
    const created = users.body.items?.find((u) => u.username === viewer.username);
    if (created) await http('PATCH', `${env.gateway}/api/v2/users/${encodeURIComponent(created.id)}`, { token, body: { active: false } });
  }, 30_000);

  it('keeps the refresh token out of reach of scripts and restores the session in a new tab', async () => {
    await step('session', async () => {
      await logInThroughForm('admin', env.adminPassword);
      const stored = await page.evaluate(() => window.sessionStorage.getItem('agentmon.session'));
      expect(stored).toContain('access_token');
      expect(stored).not.toContain('refresh');
      expect(await page.evaluate(() => document.cookie)).not.toContain('agentmon_refresh');
      const cookie = (await context.cookies(`${env.web}/session/refresh`)).find((c) => c.name === 'agentmon_refresh');
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/session' });

      // A second tab has no token of its own: it is signed in through the cookie, without the login page.
      const second = await context.newPage();
      await second.goto(`${env.web}/alerts`);
      await second.getByTestId('user-menu-button').waitFor();
      expect(new URL(second.url()).pathname).toBe('/alerts');
      await second.close();
    });
  }, 60_000);

  it('offers an admin every page, and the Acknowledge action', async () => {
    await step('admin-nav', async () => {
      for (const label of ['Overview', 'Agents', 'Alerts', 'API keys', 'Users', 'Audit log']) {
        expect(await nav().getByRole('link', { name: label }).count()).toBe(1);
      }
      await goTo('Alerts', '/alerts');
      await page.getByTestId(`alert-row-${alertId}`).waitFor();
      await page.getByTestId(`ack-${alertId}`).waitFor();
    });
  }, 60_000);

  it('creates a viewer on the Users page, showing the API’s validation error on the field it names', async () => {
    await step('create-user', async () => {
      await goTo('Users', '/users');
      await page.getByTestId('user-row-admin').waitFor();

      // What the API says about a short password is what the Password field must show.
      const refused = await http<{ details: Array<{ path: string; reason: string }> }>('POST', `${env.gateway}/api/v2/users`, {
        token: adminToken,
        body: { username: viewer.username, email: viewer.email, password: 'short', role: 'viewer' },
      });
      expect(refused.status).toBe(400);
      const reason = refused.body.details.find((d) => d.path.endsWith('password'))?.reason;
      expect(reason).toBeTruthy();

      await page.getByRole('button', { name: 'New user' }).click();
      const dialog = page.getByTestId('create-user-dialog');
      await dialog.getByLabel('Username').fill(viewer.username);
      await dialog.getByLabel('Email').fill(viewer.email);
      await dialog.getByLabel('Password', { exact: true }).fill('short');
      await dialog.getByRole('radio', { name: /^viewer/i }).check();
      await dialog.getByRole('button', { name: 'Create user' }).click();
      const passwordField = dialog.locator('.MuiFormControl-root', { has: page.getByLabel('Password', { exact: true }) });
      await eventually(async () => expect(await passwordField.locator('.MuiFormHelperText-root').innerText()).toContain(reason));
      await screenshot(page, 'page-users-create-error');

      await dialog.getByLabel('Password', { exact: true }).fill(viewer.password);
      await dialog.getByRole('button', { name: 'Create user' }).click();
      await dialog.waitFor({ state: 'hidden' });
      const row = page.getByTestId(`user-row-${viewer.username}`);
      await row.waitFor();
      expect(await row.getByTestId('role-chip').getAttribute('data-role')).toBe('viewer');
      expect(await row.getByTestId('user-status').getAttribute('data-active')).toBe('true');

      const users = await http<{ items: Array<{ username: string; role: string; active: boolean }> }>('GET', `${env.gateway}/api/v2/users?limit=1000`, { token: adminToken });
      expect(users.body.items.find((u) => u.username === viewer.username)).toMatchObject({ role: 'viewer', active: true });
      await screenshot(page, 'page-users');
    });
  }, 60_000);

  it('changes a role, deactivates after confirmation, reactivates and sets a new password', async () => {
    await step('manage-user', async () => {
      const row = page.getByTestId(`user-row-${viewer.username}`);
      const act = async (item: RegExp) => {
        await page.getByTestId(`user-actions-${viewer.username}`).click();
        await page.getByRole('menuitem', { name: item }).click();
      };
      const apiUser = async () => {
        const users = await http<{ items: Array<{ username: string; role: string; active: boolean }> }>('GET', `${env.gateway}/api/v2/users?limit=1000`, { token: adminToken });
        return users.body.items.find((u) => u.username === viewer.username);
      };

      for (const role of ['operator', 'viewer']) {
        await act(/Change role/);
        const dialog = page.getByTestId('role-dialog');
        await dialog.getByRole('radio', { name: new RegExp(`^${role}`, 'i') }).check();
        if (role === 'operator') await screenshot(page, 'page-users-role');
        await dialog.getByRole('button', { name: 'Save role' }).click();
        await dialog.waitFor({ state: 'hidden' });
        await eventually(async () => expect(await row.getByTestId('role-chip').getAttribute('data-role')).toBe(role));
        expect((await apiUser())?.role).toBe(role);
      }

      await act(/Deactivate/);
      const confirm = page.getByRole('dialog', { name: `Deactivate ${viewer.username}?` });
      await confirm.waitFor();
      await page.waitForTimeout(300); // the dialog fades in
      await screenshot(page, 'page-users-deactivate-confirm');
      await confirm.getByRole('button', { name: 'Deactivate' }).click();
      await confirm.waitFor({ state: 'hidden' });
      await eventually(async () => expect(await row.getByTestId('user-status').getAttribute('data-active')).toBe('false'));
      const refused = await http('POST', `${env.gateway}/api/v2/auth/login`, { body: { username: viewer.username, password: viewer.password } });
      expect(refused.status).toBe(401);

      await act(/Reactivate/);
      await eventually(async () => expect(await row.getByTestId('user-status').getAttribute('data-active')).toBe('true'));
      expect((await apiUser())?.active).toBe(true);

      const next = `${viewer.password}-renewed`;
      await act(/Set a new password/);
      const dialog = page.getByTestId('password-dialog');
      await dialog.getByLabel('New password', { exact: true }).fill(next);
      await dialog.getByLabel('Repeat the new password', { exact: true }).fill(next);
      await dialog.getByRole('button', { name: 'Set password' }).click();
      await dialog.waitFor({ state: 'hidden' });
      // the viewer signs in with the new password further down
      viewer.password = next;
      expect((await http('POST', `${env.gateway}/api/v2/auth/login`, { body: { username: viewer.username, password: next } })).status).toBe(200);
    });
  }, 90_000);

  it('mints an API key and shows it exactly once, with a working Copy button', async () => {
    await step('mint-key', async () => {
      await goTo('API keys', '/api-keys');
      await page.getByRole('button', { name: 'New API key' }).click();
      const form = page.getByTestId('create-api-key-dialog');
      await form.getByLabel('Name').fill(keyName);
      await form.waitFor();
      await page.waitForTimeout(300);
      // An admin holds every permission, so every one is offered.
      for (const p of ['read', 'write', 'ingest:write', 'admin']) expect(await form.getByRole('checkbox', { name: p, exact: true }).count()).toBe(1);
      expect(await form.getByRole('checkbox', { name: 'read', exact: true }).isChecked()).toBe(true);
      await screenshot(page, 'page-api-keys-create');
      await form.getByRole('button', { name: 'Create key' }).click();

      const shown = page.getByTestId('new-api-key-dialog');
      await shown.waitFor();
      expect(await shown.getByTestId('shown-once-warning').innerText()).toMatch(/you will not see it again/i);
      mintedKey = await shown.getByTestId('new-api-key').inputValue();
      expect(mintedKey).toMatch(/^amk_/);
      await shown.getByTestId('copy-api-key').click();
      await eventually(async () => expect((await shown.getByTestId('copy-api-key').innerText()).trim()).toBe('Copied'));
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(mintedKey);
      await screenshot(page, 'page-api-keys-shown-once');

      // The key works (read permission)...
      expect((await http('GET', `${env.gateway}/api/v2/agents?limit=1`, { token: mintedKey })).status).toBe(200);

      await shown.getByRole('button', { name: 'I have copied it' }).click();
      await shown.waitFor({ state: 'hidden' });
      // ...and once the dialog is closed it is nowhere on the page, only its prefix is.
      const row = page.locator(`[data-testid^="api-key-row-"][data-name="${keyName}"]`);
      await row.waitFor();
      mintedKeyId = (await row.getAttribute('data-testid'))?.replace('api-key-row-', '');
      const prefix = (await row.getByTestId('api-key-prefix').innerText()).replace('…', '').trim();
      expect(prefix.length).toBeGreaterThan(4);
      expect(mintedKey.startsWith(prefix)).toBe(true);
      expect(await page.content()).not.toContain(mintedKey);
      expect(await page.evaluate(() => JSON.stringify({ ...window.sessionStorage }))).not.toContain(mintedKey);
      await screenshot(page, 'page-api-keys');
    });
  }, 60_000);

  it('revokes the key after confirmation, and the API refuses it at once', async () => {
    await step('revoke-key', async () => {
      expect(mintedKeyId).toBeTruthy();
      await page.getByTestId(`revoke-${mintedKeyId}`).click();
      const confirm = page.getByRole('dialog', { name: /Revoke/ });
      await confirm.waitFor();
      await page.waitForTimeout(300); // the dialog fades in
      await screenshot(page, 'page-api-keys-revoke-confirm');
      await confirm.getByRole('button', { name: 'Revoke key' }).click();
      await confirm.waitFor({ state: 'hidden' });
      const row = page.getByTestId(`api-key-row-${mintedKeyId}`);
      await eventually(async () => expect(await row.getAttribute('data-state')).toBe('revoked'));
      expect(await page.getByTestId(`revoke-${mintedKeyId}`).count()).toBe(0);
      // At once: the gateway drops its cached answer when auth announces the revocation (NATS), so
      // allow only for that message to travel, far less than the cache's lifetime.
      await eventually(async () => expect((await http('GET', `${env.gateway}/api/v2/agents?limit=1`, { token: mintedKey })).status).toBe(401), 3_000, 100);
      expect((await http('GET', `${env.gateway}/api/v2/agents?limit=1`, { headers: { 'X-API-Key': mintedKey } })).status).toBe(401);
    });
  }, 60_000);

  it('finds the minting and the revocation in the audit log, filtered by action', async () => {
    await step('audit', async () => {
      await goTo('Audit log', '/audit');
      await page.getByLabel('Action').fill('api_key.delete');
      await page.waitForURL((u) => u.searchParams.get('action') === 'api_key.delete');
      // Audit events travel on JetStream: reload until the revocation has been stored.
      await eventually(
        async () => {
          await page.reload();
          await page.locator('[data-testid^="audit-row-"]').first().waitFor({ timeout: 3_000 });
          expect(await page.locator('[data-testid^="audit-row-"][data-action="api_key.delete"]', { hasText: mintedKeyId }).count()).toBe(1);
          expect(await page.locator('[data-testid^="audit-row-"]:not([data-action="api_key.delete"])').count()).toBe(0);
        },
        30_000,
        1_000,
      );
      const revocation = page.locator('[data-testid^="audit-row-"]', { hasText: mintedKeyId });
      await revocation.getByRole('button', { name: 'Show details' }).click();
      const details = page.getByTestId('audit-details');
      await details.waitFor();
      // before/after name the key by its prefix only
      expect(await details.innerText()).toContain(mintedKey.slice(0, 8));
      await page.waitForTimeout(400); // let the row finish unfolding for the screenshot
      await screenshot(page, 'page-audit');
      // The whole key is in no audit entry (only its prefix).
      expect(await page.content()).not.toContain(mintedKey);
    });
  }, 60_000);

  it('logs out and revokes the session at the gateway', async () => {
    await step('logout', async () => {
      const stored = await page.evaluate(() => window.sessionStorage.getItem('agentmon.session'));
      const accessToken = (JSON.parse(stored ?? '{}') as { access_token?: string }).access_token;
      expect(accessToken).toBeTruthy();
      await page.getByTestId('user-menu-button').click();
      await page.getByRole('menuitem', { name: 'Log out' }).click();
      await page.waitForURL((u) => u.pathname === '/login');
      expect((await context.cookies(`${env.web}/session/refresh`)).find((c) => c.name === 'agentmon_refresh')).toBeUndefined();
      await eventually(async () => expect((await http('GET', `${env.gateway}/api/v2/users/profile`, { token: accessToken })).status).toBe(401));
    });
  }, 60_000);

  it('does not offer a viewer Users, the Audit log or any write action', async () => {
    await step('viewer', async () => {
      await logInThroughForm(viewer.username, viewer.password);
      await page.getByTestId('user-menu-button').click();
      expect((await page.getByTestId('user-role').innerText()).trim()).toBe('viewer');
      await page.keyboard.press('Escape');

      expect(await nav().getByRole('link', { name: 'Users' }).count()).toBe(0);
      expect(await nav().getByRole('link', { name: 'Audit log' }).count()).toBe(0);
      expect(await nav().getByRole('link', { name: 'API keys' }).count()).toBe(1);

      // The firing alert is visible, its Acknowledge button is not.
      await goTo('Alerts', '/alerts');
      await page.getByTestId(`alert-row-${alertId}`).waitFor();
      expect(await page.getByTestId(`ack-${alertId}`).count()).toBe(0);
      await page.goto(`${env.web}/agents/${encodeURIComponent(agentId)}`);
      await page.getByTestId(`alert-row-${alertId}`).waitFor();
      expect(await page.getByTestId(`ack-${alertId}`).count()).toBe(0);
      await screenshot(page, 'page-agent-viewer');

      // A viewer mints only keys with what a viewer holds.
      await page.goto(`${env.web}/api-keys`);
      await page.getByRole('button', { name: 'New API key' }).click();
      const form = page.getByTestId('create-api-key-dialog');
      await form.getByLabel('Name').waitFor();
      expect(await form.getByRole('checkbox', { name: 'read', exact: true }).count()).toBe(1);
      for (const p of ['write', 'ingest:write', 'admin']) expect(await form.getByRole('checkbox', { name: p, exact: true }).count()).toBe(0);
      await form.getByRole('button', { name: 'Cancel' }).click();

      // Reached by a typed URL, the admin pages say clearly that they are not for this role.
      for (const path of ['/users', '/audit']) {
        await page.goto(`${env.web}${path}`);
        await page.getByTestId('forbidden-state').waitFor();
        expect(await page.getByRole('button', { name: 'New user' }).count()).toBe(0);
      }
      await screenshot(page, 'page-audit-viewer-forbidden');
    });
  }, 90_000);
});
