// Aggregates, the dashboard's fleet series and the agent summary, end to end through the public
// ports: points pushed to ingest (:18001) come back through the gateway (:18000), computed by the
// ingest service from InfluxDB and from the latest values it keeps in Redis.
import { E2E, api, call, eventually, login } from './harness.js';

const RUN = Date.now().toString(36);
const agents = [
  { id: `e2e-agg-a-${RUN}`, model: 'small', cpu: [10, 20, 30] },
  { id: `e2e-agg-b-${RUN}`, model: 'large', cpu: [70, 80, 90] },
];
let token: string;

beforeAll(async () => {
  token = (await login('admin', E2E.adminPassword)).access_token;
  const key = await call('POST', api('/api-keys'), { token, body: { name: `e2e-metrics-${RUN}`, permissions: ['ingest:write'] } });
  expect(key.status).toBe(201);
  const t0 = Date.now() - 2 * 60_000;
  for (const a of agents) {
    const res = await call('POST', `${E2E.ingest}/api/v2/ingest`, {
      token: key.body.key,
      body: {
        agent: { id: a.id, name: a.id },
        points: [
          ...a.cpu.map((cpu, i) => ({ measurement: 'agent_metrics', fields: { cpu_usage: cpu, memory_usage: cpu / 2 }, time: t0 + i * 1000 })),
          { measurement: 'performance_metrics', fields: { error_rate: a.cpu[0]! / 100, tasks_completed: 5 }, time: t0 + 5000 },
          { measurement: 'ai_metrics', fields: { tokens_in: 100, cost: 0.5 }, tags: { model: a.model }, time: t0 + 5000 },
        ],
      },
    });
    expect(res.status).toBe(202);
  }
});

describe('metric aggregates and the dashboard', () => {
  it('aggregates per agent and per tag over raw points', async () => {
    const perAgent = await eventually(
      'aggregate per agent',
      () => call('GET', api('/metrics/aggregate/15m?measurement=agent_metrics&field=cpu_usage&fn=mean&group_by=agent'), { token }),
      (r) => r.status === 200 && agents.every((a) => r.body.series.some((s: { group: { agent_id: string } }) => s.group.agent_id === a.id)),
    );
    expect(perAgent.body).toMatchObject({ timerange: '15m', source: 'raw', group_by: 'agent' });
    for (const a of agents) {
      const s = perAgent.body.series.find((x: { group: { agent_id: string } }) => x.group.agent_id === a.id);
      expect(s.value).toBe(a.cpu.reduce((x, y) => x + y, 0) / a.cpu.length);
    }
    const cost = await eventually(
      'aggregate per tag',
      () => call('GET', api('/metrics/aggregate/1h?measurement=ai_metrics&field=tokens_in&fn=sum&group_by=tag:model'), { token }),
      (r) => r.status === 200 && r.body.series.some((s: { group: { model: string } }) => s.group.model === 'large'),
    );
    expect(cost.body.series.find((s: { group: { model: string } }) => s.group.model === 'large').value).toBeGreaterThanOrEqual(100);
    const byGroup = await call('GET', api('/metrics/aggregate/1h?field=cpu_usage&group_by=group'), { token });
    expect(byGroup.status).toBe(400);
    expect(byGroup.body.message).toBe('grouping by group is not available yet');
  });

  it('serves the fleet series of the dashboard measurements and the agent summary with latest values', async () => {
    const fleet = await call('GET', api('/dashboard/metrics/1h'), { token });
    expect(fleet.status).toBe(200);
    const cpu = fleet.body.series.find((s: { measurement: string; field: string }) => s.measurement === 'agent_metrics' && s.field === 'cpu_usage');
    expect(cpu).toMatchObject({ fn: 'mean', source: 'raw' });
    expect(typeof cpu.value).toBe('number');

    const summary = await eventually(
      'agents summary',
      () => call('GET', api(`/dashboard/agents/summary?q=${encodeURIComponent(`e2e-agg-b-${RUN}`)}`), { token }),
      (r) => r.status === 200 && r.body.items.some((i: { id: string; cpu_usage: unknown }) => i.id === agents[1]!.id && i.cpu_usage !== null),
      20_000,
    );
    const b = summary.body.items.find((i: { id: string }) => i.id === agents[1]!.id);
    // the status is the registry's (online, or offline once the short e2e heartbeat timeout passed)
    expect(b).toMatchObject({ status: expect.stringMatching(/^(online|offline)$/), cpu_usage: { value: 90 }, memory_usage: { value: 45 }, error_rate: { value: 0.7 } });
    expect(summary.body.unavailable).toEqual([]);
  });
});
