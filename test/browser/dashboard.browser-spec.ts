/**
 * The dashboard in a real browser against the whole running stack (gateway, ingest, auth,
 * registry, InfluxDB, ...), started by the end-to-end harness (see support.ts for what it passes).
 * On failure a screenshot is written to AGENTMON_BROWSER_ARTIFACTS (default <tmp>/agentmon-browser).
 */
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { eventually, http, launchChromium, readEnv, step as stepWithScreenshot, type Env } from './support.js';

const MEASUREMENT = 'agent_metrics';

describe('dashboard in a browser', () => {
  let env: Env;
  let adminToken: string;
  let ingestKey: { id: string; key: string };
  let browser: Browser;
  let page: Page;
  let wrongPasswordMessage: string;
  const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const agent = {
    id: `browser-e2e-${suffix}`,
    name: `Browser E2E ${suffix}`,
    type: 'llm-agent',
    version: '1.4.2',
    host: 'browser-host-1',
    region: 'eu-west-1',
    tags: { env: 'e2e', team: 'dashboard' },
  };

  const pushPoints = async (pts: Array<{ cpu: number; mem: number; time: number }>) => {
    const res = await http<{ accepted: number }>('POST', `${env.ingest}/api/v2/ingest`, {
      token: ingestKey.key,
      body: {
        agent,
        points: pts.map((p) => ({
          measurement: MEASUREMENT,
          fields: { cpu_usage: p.cpu, memory_usage: p.mem },
          tags: { core: 'all' },
          time: new Date(p.time).toISOString(),
        })),
      },
    });
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(pts.length);
  };

  const step = (name: string, fn: () => Promise<void>) => stepWithScreenshot(page, `${name}-${suffix}`, fn);

  beforeAll(async () => {
    env = readEnv();

    const login = await http<{ access_token: string }>('POST', `${env.gateway}/api/v2/auth/login`, {
      body: { username: 'admin', password: env.adminPassword },
    });
    expect(login.status).toBe(200);
    adminToken = login.body.access_token;

    // What the API says about a wrong password is what the login form must show.
    const wrong = await http<{ message: string }>('POST', `${env.gateway}/api/v2/auth/login`, {
      body: { username: 'admin', password: `wrong-${suffix}` },
    });
    expect(wrong.status).toBe(401);
    expect(typeof wrong.body.message).toBe('string');
    wrongPasswordMessage = wrong.body.message;

    const key = await http<{ id: string; key: string; permissions: string[] }>('POST', `${env.gateway}/api/v2/api-keys`, {
      token: adminToken,
      body: { name: `browser-e2e-${suffix}`, permissions: ['ingest:write'] },
    });
    expect(key.status).toBe(201);
    expect(key.body.key).toMatch(/^amk_/);
    ingestKey = { id: key.body.id, key: key.body.key };

    // Twelve points over the last six minutes: well inside the default 1h range of the agent page.
    const now = Date.now();
    await pushPoints(
      Array.from({ length: 12 }, (_, i) => ({ cpu: 20 + i * 2.5, mem: 40 + (i % 4) * 5, time: now - (12 - i) * 30_000 })),
    );

    // Registration and storage happen behind JetStream: wait until the gateway answers with both.
    await eventually(async () => {
      const res = await http('GET', `${env.gateway}/api/v2/agents/${encodeURIComponent(agent.id)}`, { token: adminToken });
      expect(res.status).toBe(200);
    }, 60_000, 500);
    await eventually(async () => {
      const q = new URLSearchParams({
        measurement: MEASUREMENT,
        fields: 'cpu_usage,memory_usage',
        from: new Date(now - 3_600_000).toISOString(),
        to: new Date(Date.now()).toISOString(),
      });
      const res = await http<{ series: Array<{ field: string; points: Array<[string, number | null]> }> }>(
        'GET',
        `${env.gateway}/api/v2/metrics/historical/${encodeURIComponent(agent.id)}?${q}`,
        { token: adminToken },
      );
      expect(res.status).toBe(200);
      for (const field of ['cpu_usage', 'memory_usage']) {
        const s = res.body.series.find((x) => x.field === field);
        expect(s?.points.filter(([, v]) => v !== null).length ?? 0).toBeGreaterThanOrEqual(2);
      }
    }, 60_000, 500);

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(20_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (!env) return;
    // Leave nothing behind: the agent and the key this test created.
    const login = await http<{ access_token: string }>('POST', `${env.gateway}/api/v2/auth/login`, {
      body: { username: 'admin', password: env.adminPassword },
    });
    if (login.status !== 200) return;
    const token = login.body.access_token;
    if (ingestKey) await http('DELETE', `${env.gateway}/api/v2/api-keys/${encodeURIComponent(ingestKey.id)}`, { token });
    await http('DELETE', `${env.gateway}/api/v2/agents/${encodeURIComponent(agent.id)}`, { token });
  }, 30_000);

  it('shows the API error for a wrong password and stays on the login page', async () => {
    await step('wrong-password', async () => {
      await page.goto(`${env.web}/login`);
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill(`also-wrong-${suffix}`);
      await page.getByRole('button', { name: 'Log in' }).click();
      const error = page.getByTestId('login-error');
      await error.waitFor({ state: 'visible' });
      expect((await error.innerText()).trim()).toBe(wrongPasswordMessage);
      expect(new URL(page.url()).pathname).toBe('/login');
    });
  }, 60_000);

  it('logs in and lists the agent that pushed telemetry, with its status', async () => {
    await step('agent-list', async () => {
      await page.getByLabel('Password').fill(env.adminPassword);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL((u) => !u.pathname.startsWith('/login'));
      if (new URL(page.url()).pathname !== '/agents') {
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Agents' }).click();
        await page.waitForURL((u) => u.pathname === '/agents');
      }
      // A fresh push is a heartbeat, so the agent is online whatever the heartbeat timeout is.
      await pushPoints([{ cpu: 42, mem: 51, time: Date.now() }]);
      await page.getByLabel('Search').fill(agent.id);
      await page.waitForURL((u) => u.searchParams.get('q') === agent.id);
      const row = page.getByTestId(`agent-row-${agent.id}`);
      await row.waitFor({ state: 'visible' });
      expect(await row.innerText()).toContain(agent.name);
      expect(await row.innerText()).toContain(agent.host);
      const chip = row.getByTestId('agent-status-chip');
      await eventually(async () => expect(await chip.getAttribute('data-status')).toBe('online'));
      expect((await chip.innerText()).trim()).toBe('online');
    });
  }, 60_000);

  it('opens the agent page with its status chip and CPU and memory charts drawn from the stored data', async () => {
    await step('agent-page', async () => {
      await page.getByTestId(`agent-row-${agent.id}`).click();
      await page.waitForURL((u) => u.pathname === `/agents/${encodeURIComponent(agent.id)}` || u.pathname === `/agents/${agent.id}`);
      await page.getByTestId('agent-name').waitFor();
      expect((await page.getByTestId('agent-name').innerText()).trim()).toBe(agent.name);
      const status = page.getByTestId('agent-status');
      await status.waitFor({ state: 'visible' });
      expect(['online', 'degraded', 'offline']).toContain(await status.getAttribute('data-status'));
      expect((await status.innerText()).trim()).toBe(await status.getAttribute('data-status'));

      for (const field of ['cpu_usage', 'memory_usage']) {
        const chart = page.getByTestId(`chart-${field}`);
        await eventually(async () => expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThanOrEqual(2));
        const line = chart.locator('svg path.MuiLineChart-line');
        await line.first().waitFor({ state: 'visible' });
        expect((await line.first().getAttribute('d'))?.length ?? 0).toBeGreaterThan(10);
        expect(await chart.getByTestId(`chart-${field}-latest`).innerText()).toMatch(/\d/);
      }
    });
  }, 60_000);

  it('appends a newly pushed point to the charts live', async () => {
    await step('live-append', async () => {
      await eventually(async () => expect(await page.getByTestId('live-indicator').getAttribute('data-state')).toBe('live'));
      const cpu = page.getByTestId('chart-cpu_usage');
      const before = Number(await cpu.getAttribute('data-points'));
      await pushPoints([{ cpu: 77.7, mem: 66.6, time: Date.now() }]);
      await eventually(async () => {
        expect(Number(await cpu.getAttribute('data-points'))).toBeGreaterThan(before);
        expect(await page.getByTestId('chart-cpu_usage-latest').innerText()).toContain('77.7');
        expect(await page.getByTestId('chart-memory_usage-latest').innerText()).toContain('66.6');
      }, 20_000);
    });
  }, 60_000);

  it('shows the role in the user menu and logs out', async () => {
    await step('logout', async () => {
      await page.getByTestId('user-menu-button').click();
      expect((await page.getByTestId('user-role').innerText()).trim()).toBe('admin');
      await page.getByRole('menuitem', { name: 'Log out' }).click();
      await page.waitForURL((u) => u.pathname === '/login');
      await page.goto(`${env.web}/agents`);
      await page.waitForURL((u) => u.pathname === '/login');
    });
  }, 60_000);
});
