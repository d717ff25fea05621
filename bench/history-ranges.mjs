#!/usr/bin/env node
// How long a chart of one agent takes to load, by range: 1 hour … 1 year, through the ingest
// service's query RPCs (NATS request/reply → InfluxQL → InfluxDB), to show that the downsampled data
// makes a 1-year chart about as fast as a 1-hour one.
//
//   npm run build   (or: npx tsc -b services/ingest/tsconfig.build.json)
//   node scripts/lib/infra.mjs up test
//   node bench/history-ranges.mjs [--requests 50]
//
// It seeds one agent in its own database (agentmon_bench_history): 24 h of raw points every 10 s,
// 30 days of 1-minute aggregates and 365 days of 1-hour aggregates (what the continuous queries would
// have made), starts the built ingest service on that database, and times sequential requests of
// rpc.ingest.metrics.historical.v1 and rpc.ingest.metrics.aggregate.v1 for each range, with the
// gateway's own RpcClient (libs/messaging, built). The servers
// are the test profile's (AGENTMON_TEST_PORT_OFFSET honoured) unless NATS_URL / REDIS_URL / INFLUX_URL
// are set. No other ingest service may be connected to that NATS (it would share the requests).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RpcClient } from '@agentmon/messaging';
import { nodeFlagsOf } from '../scripts/lib/node-flags.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const OFFSET = Number(process.env.AGENTMON_TEST_PORT_OFFSET ?? 0);
const NATS_URL = process.env.NATS_URL ?? `nats://127.0.0.1:${14222 + OFFSET}`;
const REDIS_URL = process.env.REDIS_URL ?? `redis://127.0.0.1:${16379 + OFFSET}/0`;
const INFLUX_URL = process.env.INFLUX_URL ?? `http://127.0.0.1:${18086 + OFFSET}`;
const PORT = 18109 + OFFSET;
const DB = 'agentmon_bench_history';
const AGENT = 'bench-agent-1';
const argv = process.argv.slice(2);
const REQUESTS = Number(argv[argv.indexOf('--requests') + 1] || 50) || 50;

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

async function influx(pathAndQuery, body) {
  const res = await fetch(`${INFLUX_URL}${pathAndQuery}`, { method: 'POST', body });
  if (!res.ok) throw new Error(`InfluxDB ${pathAndQuery} answered ${res.status}: ${await res.text()}`);
  return res;
}

async function writeAll(rp, lines) {
  for (let i = 0; i < lines.length; i += 10_000) {
    await influx(`/write?db=${DB}&rp=${rp}&precision=ms`, lines.slice(i, i + 10_000).join('\n'));
  }
}

/** A day-shaped signal so that the charts are not flat. */
const cpuAt = (t) => 40 + 30 * Math.sin((2 * Math.PI * (t % D)) / D) + 5 * Math.sin(t / 7_000_000);

async function seed(now) {
  const raw = [];
  for (let t = now - D; t < now; t += 10 * S) {
    const cpu = cpuAt(t);
    raw.push(`agent_metrics,agent_id=${AGENT} cpu_usage=${cpu.toFixed(3)},memory_usage=${(cpu / 2 + 20).toFixed(3)} ${t}`);
  }
  const agg = (step, span) => {
    const lines = [];
    const start = Math.floor((now - span) / step) * step;
    for (let t = start; t < now; t += step) {
      const cpu = cpuAt(t);
      const n = step / (10 * S);
      const f = (name, v) => `mean_${name}=${v.toFixed(3)},min_${name}=${(v - 3).toFixed(3)},max_${name}=${(v + 3).toFixed(3)},count_${name}=${n},sum_${name}=${(v * n).toFixed(3)}`;
      lines.push(`agent_metrics,agent_id=${AGENT} ${f('cpu_usage', cpu)},${f('memory_usage', cpu / 2 + 20)} ${t}`);
    }
    return lines;
  };
  const m1 = agg(M, 30 * D);
  const h1 = agg(H, 365 * D);
  await writeAll('raw', raw);
  await writeAll('agg_1m', m1);
  await writeAll('agg_1h', h1);
  return { raw: raw.length, agg_1m: m1.length, agg_1h: h1.length };
}

function startIngest() {
  const main = path.join(ROOT, 'services', 'ingest', 'dist', 'main.js');
  if (!existsSync(main)) throw new Error('build first: npx tsc -b services/ingest/tsconfig.build.json');
  const child = spawn(process.execPath, [...nodeFlagsOf('ingest'), main], {
    env: { PATH: process.env.PATH, PORT: String(PORT), HTTP_HOST: '127.0.0.1', NATS_URL, REDIS_URL, INFLUX_URL, INFLUX_DATABASE: DB, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

async function waitReady() {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const ok = await fetch(`http://127.0.0.1:${PORT}/health/ready`).then((r) => r.status === 200, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('ingest did not become ready');
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Sequential requests as the gateway makes them (typed RpcClient, contract checked at both ends). */
async function timeRequests(rpc, subject, payload) {
  let body;
  for (let i = 0; i < 5; i++) body = await rpc.request(subject, payload); // warm-up
  const times = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t = process.hrtime.bigint();
    body = await rpc.request(subject, payload);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { body, p50: percentile(times, 50), p95: percentile(times, 95), max: times.at(-1) };
}

const child = startIngest();
let rpc;
try {
  await waitReady(); // the service migrates the database (retention policies) before it answers
  await influx('/query', new URLSearchParams({ q: `DROP SERIES FROM /.*/ WHERE agent_id = '${AGENT}'`, db: DB }));
  const now = Date.now();
  process.stdout.write('seeding… ');
  const seeded = await seed(now);
  process.stdout.write(`raw ${seeded.raw}, agg_1m ${seeded.agg_1m}, agg_1h ${seeded.agg_1h} points per field\n`);
  rpc = new RpcClient(NATS_URL, 30_000, 'bench-history');
  await rpc.connect();
  const ranges = [
    ['1h', H],
    ['24h', D],
    ['7d', 7 * D],
    ['30d', 30 * D],
    ['1y', 365 * D],
  ];
  const rows = [];
  for (const [name, ms] of ranges) {
    const to = Date.now();
    const hist = await timeRequests(rpc, 'rpc.ingest.metrics.historical.v1', { agent_id: AGENT, measurement: 'agent_metrics', fields: ['cpu_usage', 'memory_usage'], from: to - ms, to });
    const points = hist.body.series[0].points.filter((p) => p[1] !== null).length;
    const agg = await timeRequests(rpc, 'rpc.ingest.metrics.aggregate.v1', { timerange: name, measurement: 'agent_metrics', fields: ['cpu_usage'], fn: 'mean', group_by: { kind: 'agent' } });
    rows.push({ range: name, interval: hist.body.interval, points, hist, agg });
  }
  const cpu = os.cpus();
  console.log(`\n${new Date().toISOString()} · ${cpu.length} × ${cpu[0]?.model ?? 'cpu'} · ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB · node ${process.version} · ${REQUESTS} sequential requests per row`);
  console.log('\n| range | history interval | points per series | history p50 ms | history p95 ms | aggregate source | aggregate p50 ms | aggregate p95 ms |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.range} | ${r.interval} | ${r.points} | ${r.hist.p50.toFixed(1)} | ${r.hist.p95.toFixed(1)} | ${r.agg.body.source} | ${r.agg.p50.toFixed(1)} | ${r.agg.p95.toFixed(1)} |`);
  }
} finally {
  await rpc?.close();
  child.kill('SIGTERM');
}
