// A small simulated fleet: agents of several kinds pushing telemetry through the public ingest
// API with an ingest key, so a newcomer sees a living dashboard at once.
const KINDS = [
  { type: 'llm-agent', model: 'gpt-large', region: 'eu-west-1' },
  { type: 'retrieval-agent', model: 'embed-small', region: 'us-east-1' },
  { type: 'planner', model: 'gpt-large', region: 'eu-west-1' },
  { type: 'crawler', model: null, region: 'ap-south-1' },
];

async function json(res) {
  const body = await res.text();
  if (!res.ok) throw new Error(`${res.status} ${body}`);
  return body ? JSON.parse(body) : {};
}

export async function startSimulator({ gatewayUrl, ingestUrl, adminPassword, agents, intervalMs = 5000 }) {
  const login = await json(
    await fetch(`${gatewayUrl}/api/v2/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: adminPassword }),
    }),
  );
  const key = await json(
    await fetch(`${gatewayUrl}/api/v2/api-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${login.access_token}` },
      body: JSON.stringify({ name: `fleet-simulator-${Date.now()}`, permissions: ['ingest:write'] }),
    }),
  );
  const fleet = Array.from({ length: agents }, (_, i) => {
    const kind = KINDS[i % KINDS.length];
    return { id: `sim-${kind.type}-${i + 1}`, kind, phase: Math.random() * Math.PI * 2, load: 20 + Math.random() * 40 };
  });
  let tick = 0;
  const push = async () => {
    tick++;
    await Promise.all(
      fleet.map(async (a, i) => {
        // one agent in eight goes quiet for a while, so statuses change on the dashboard
        if (i % 8 === 7 && Math.floor(tick / 30) % 2 === 1) return;
        const wave = Math.sin(tick / 12 + a.phase);
        const cpu = clamp(a.load + wave * 25 + (Math.random() - 0.5) * 10 + (i === 0 && tick % 40 > 30 ? 45 : 0), 0, 100);
        const mem = clamp(35 + a.load / 2 + wave * 10 + Math.random() * 5, 0, 100);
        const points = [
          { measurement: 'agent_metrics', fields: { cpu_usage: round(cpu), memory_usage: round(mem) } },
          {
            measurement: 'performance_metrics',
            fields: { tasks_completed: Math.round(5 + Math.random() * 20), error_rate: round(Math.max(0, wave) * 3 * Math.random()), response_time: round(120 + cpu * 4) },
          },
        ];
        if (a.kind.model) {
          const tokensIn = Math.round(500 + Math.random() * 3000);
          const tokensOut = Math.round(100 + Math.random() * 800);
          points.push({
            measurement: 'ai_metrics',
            tags: { model: a.kind.model },
            fields: { inference_time: round(300 + Math.random() * 900), accuracy: round(0.85 + Math.random() * 0.14), tokens_in: tokensIn, tokens_out: tokensOut, cost: round((tokensIn + tokensOut) * 0.000002) },
          });
        }
        await fetch(`${ingestUrl}/api/v2/ingest`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key.key}` },
          body: JSON.stringify({
            agent: { id: a.id, name: `${a.kind.type} #${i + 1}`, type: a.kind.type, version: '1.4.2', host: `node-${(i % 3) + 1}`, region: a.kind.region, tags: { env: i % 2 ? 'prod' : 'staging', team: 'demo' } },
            points,
          }),
        }).catch(() => undefined);
      }),
    );
  };
  await push();
  const timer = setInterval(() => void push(), intervalMs);
  return { stop: () => clearInterval(timer) };
}

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
const round = (v) => Math.round(v * 100) / 100;
