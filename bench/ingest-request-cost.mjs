#!/usr/bin/env node
// What one steady-phase request costs the stack, closed loop: a fixed number of requests (the
// steady phase's JSON batches of bench/ingest.mjs, one agent and two points each, over 10,000
// agents and 20 API keys) kept `--connections` at a time in flight, and the CPU each process used
// per request. Without the open-loop schedule the figure is steadier than bench/ingest.mjs's latencies,
// but not by as much as one would like: on the sixth machine of docs/benchmarks.md (item 33) the same
// code gave 497–632 µs of ingest CPU per request over four runs, so only a change well beyond a fifth
// shows in one run; run both sides more than once.
//
//   node bench/ingest-request-cost.mjs [--requests 20000] [--connections 16] [--repeats 3]
//        [--env ingest:KEY=VALUE …] [--no-build]
//
// It starts profile "bench" of scripts/lib/infra.mjs and the six services from dist as
// bench/ingest.mjs does (same ports: not while that runs), mints the keys through the gateway, sends
// one round to warm up, then `--repeats` measured rounds, and stops what it started.
import { parseArgs } from 'node:util';
import { PROFILES, ensureInfra, portOpen, stopInfra } from '../scripts/lib/infra.mjs';
import { ensureSecrets } from '../scripts/lib/setup.mjs';
import { startStack } from '../scripts/lib/stack.mjs';
import { wholeNumbers } from './lib/args.mjs';
import { steadyBody } from './lib/data.mjs';
import { KeepAlivePool } from './lib/keepalive-client.mjs';
import { buildServices, mintKeys, serviceSettings } from './lib/stack-setup.mjs';
import { cpuMsOf, stackProcessGroups } from './lib/procstat.mjs';

const { values: opt } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    connections: { type: 'string', default: '16' },
    repeats: { type: 'string', default: '3' },
    env: { type: 'string', multiple: true, default: [] },
    'no-build': { type: 'boolean', default: false },
  },
});
const { requests, connections, repeats } = wholeNumbers(opt, ['requests', 'connections', 'repeats']);
const extraEnv = serviceSettings(opt.env);
const say = (m) => process.stdout.write(`\x1b[36m[request-cost]\x1b[0m ${m}\n`);
const profile = PROFILES.bench;
const AGENTS = 10_000;
const KEYS = 20;

/** CPU ms so far of every process of every group (by pid), and of this process (the load generator). */
function readCpu(groups) {
  const out = {};
  for (const [name, g] of Object.entries(groups)) out[name] = new Map((typeof g === 'function' ? g() : g).map((pid) => [pid, cpuMsOf(pid)]));
  const u = process.cpuUsage();
  out['load generator'] = new Map([[0, (u.user + u.system) / 1000]]);
  return out;
}

/** CPU ms from one reading to the next: a process that appeared meanwhile (a PostgreSQL backend) counts whole, one that left is not known. */
function cpuBetween(before, after) {
  const out = {};
  for (const [name, pids] of Object.entries(after)) {
    let ms = 0;
    for (const [pid, now] of pids) if (Number.isFinite(now)) ms += now - (before[name]?.get(pid) ?? 0);
    out[name] = ms;
  }
  return out;
}

async function round(pool, keys, groups, firstSeq) {
  let next = 0;
  let failed = 0;
  let sample;
  const latencies = [];
  const before = readCpu(groups);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < requests) {
        const seq = firstSeq + next++;
        const t = performance.now();
        const res = await pool.send(pool.post('/api/v2/ingest', { 'Content-Type': 'application/json', Authorization: `Bearer ${keys[seq % KEYS]}` }, steadyBody(seq, AGENTS, Date.now())), 10_000);
        latencies.push(performance.now() - t);
        if (res.status !== 202) {
          failed++;
          sample ??= res.status ? `HTTP ${res.status}: ${res.body.slice(0, 200)}` : res.error;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const after = readCpu(groups);
  latencies.sort((a, b) => a - b);
  const perRequest = Object.fromEntries(Object.entries(cpuBetween(before, after)).map(([k, ms]) => [k, ms / requests]));
  return { seconds, failed, sample, latencies, perRequest };
}

async function main() {
  for (const svc of ['auth', 'registry', 'ingest', 'alerting', 'notification', 'gateway']) {
    if (await portOpen(profile.ports[svc])) throw new Error(`port ${profile.ports[svc]} (${svc} of profile bench) is in use: is bench/ingest.mjs running?`);
  }
  if (!opt['no-build']) {
    say('building libraries and services (--no-build skips this)');
    buildServices();
  }
  const started = await ensureInfra('bench');
  const { secrets } = ensureSecrets(profile.dir);
  let stack;
  try {
    stack = await startStack('bench', { secrets, logToFiles: true, withWeb: false, extraEnv });
    const keys = await mintKeys(`http://127.0.0.1:${profile.ports.gateway}`, secrets.AGENTMON_ADMIN_PASSWORD, KEYS);
    const groups = stackProcessGroups(stack, profile);
    const pool = new KeepAlivePool(`http://127.0.0.1:${profile.ports.ingest}/`, connections);
    say(`${requests} requests, ${connections} in flight at a time; a round to warm up, then ${repeats}`);
    await round(pool, keys, groups, 0);
    const rows = [];
    for (let i = 1; i <= repeats; i++) {
      const r = await round(pool, keys, groups, i * requests);
      if (r.failed > 0) throw new Error(`${r.failed} requests failed, e.g. ${r.sample}`);
      const p = (q) => r.latencies[Math.min(r.latencies.length - 1, Math.ceil(q * r.latencies.length) - 1)].toFixed(1);
      const stackMs = Object.entries(r.perRequest).reduce((s, [k, v]) => (k === 'load generator' ? s : s + v), 0);
      const others = Object.entries(r.perRequest)
        .filter(([k]) => k !== 'ingest' && k !== 'load generator')
        .map(([k, v]) => `${k} ${(v * 1000).toFixed(0)}`)
        .join(', ');
      rows.push(r.perRequest.ingest);
      say(
        `round ${i}: ${Math.round(requests / r.seconds)} requests/s, latency p50 ${p(0.5)} / p99 ${p(0.99)} ms; CPU per request: ingest ${(r.perRequest.ingest * 1000).toFixed(0)} µs, ` +
          `every process of the stack ${(stackMs * 1000).toFixed(0)} µs, its periodic work (downsampling) included (${others}), load generator ${(r.perRequest['load generator'] * 1000).toFixed(0)} µs`,
      );
    }
    rows.sort((a, b) => a - b);
    say(`ingest: ${(rows[Math.floor(rows.length / 2)] * 1000).toFixed(0)} µs of CPU per request (median of ${repeats}; ${(rows[0] * 1000).toFixed(0)}–${(rows[rows.length - 1] * 1000).toFixed(0)})`);
    pool.destroy();
  } finally {
    await stack?.stop().catch(() => undefined);
    if (started.length) stopInfra('bench', started.filter((w) => w !== 'postgres'));
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
