#!/usr/bin/env node
// What downsampling costs InfluxDB, the way a continuous query did it and the way the ingest service
// does it now (services/ingest/src/downsample): one `SELECT mean(*), min(*), max(*), count(*), sum(*)
// INTO agg_1m … GROUP BY time(1m), *` over every agent, against the same statement per group of 50
// agents, one after another (without the service's pauses, so the figures are the queries' own).
//
//   node scripts/lib/infra.mjs up test          # InfluxDB of the test profile (AGENTMON_TEST_PORT_OFFSET honoured)
//   node bench/downsampling.mjs [--agents 10000] [--points 4] [--per-query 50]
//
// It seeds its own database (agentmon_bench_downsampling) with what the steady phase of
// bench/ingest.mjs leaves (`steadySeries` of bench/lib/data.mjs): --agents agents, each with an
// `agent_metrics` (2 float fields) and a `performance_metrics` point (3 fields) every 10 s for
// --points × 10 s in the last minutes, with the tags ingest stores (20,000 series for 10,000 agents). Then, for each way, it reports the wall time, InfluxDB's CPU (user +
// system from /proc, so run it on an otherwise quiet machine), and the longest single query: the
// stretch during which InfluxDB competes with everything else on the machine.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { PROFILES } from '../scripts/lib/infra.mjs';
import { steadySeries } from './lib/data.mjs';
import { influxQuery, influxdCpuMs } from './lib/influx.mjs';

const { values } = parseArgs({ options: { agents: { type: 'string', default: '10000' }, points: { type: 'string', default: '4' }, 'per-query': { type: 'string', default: '50' } } });
const AGENTS = Number(values.agents);
const POINTS = Number(values.points);
const PER_QUERY = Number(values['per-query']);
const profile = PROFILES.test;
const INFLUX = `http://127.0.0.1:${profile.influx.port}`;
const DB = 'agentmon_bench_downsampling';
const M = 60_000;

const cpuMs = influxdCpuMs(profile.dir);
const query = (q, db = DB) => influxQuery(INFLUX, q, db, 300_000);

async function seed(now) {
  await query(`DROP DATABASE "${DB}"`, '');
  await query(`CREATE DATABASE "${DB}" WITH DURATION 90d NAME "raw"`, '');
  await query(`CREATE RETENTION POLICY "agg_1m" ON "${DB}" DURATION 365d REPLICATION 1`, '');
  let lines = [];
  const flush = async () => {
    const res = await fetch(`${INFLUX}/write?db=${DB}&rp=raw&precision=ms`, { method: 'POST', body: lines.join('\n') });
    if (res.status !== 204) throw new Error(`write answered ${res.status}: ${await res.text()}`);
    lines = [];
  };
  // what the steady phase of bench/ingest.mjs leaves, with the tags ingest stores (bench/lib/data.mjs)
  for (const line of steadySeries(AGENTS, POINTS, now - M - POINTS * 10_000)) {
    lines.push(line);
    if (lines.length >= 10_000) await flush();
  }
  if (lines.length) await flush();
}

const statement = (where, from, to) =>
  `SELECT mean(*), min(*), max(*), count(*), sum(*) INTO "${DB}"."agg_1m".:MEASUREMENT FROM "${DB}"."raw"./.*/ ` +
  `WHERE ${where ? `(${where}) AND ` : ''}time >= ${from}ms AND time < ${to}ms GROUP BY time(1m), *`;

async function measure(name, statements) {
  await new Promise((r) => setTimeout(r, 3000)); // what the writes left behind settles first
  const c0 = cpuMs();
  const t0 = performance.now();
  let longest = 0;
  for (const s of statements) {
    const q0 = performance.now();
    await query(s);
    longest = Math.max(longest, performance.now() - q0);
  }
  const wall = performance.now() - t0;
  const cpu = cpuMs() - c0;
  return { name, queries: statements.length, wallS: wall / 1000, influxCpuS: cpu / 1000, longestQueryMs: longest, cores: cpu / wall };
}

const now = Date.now();
process.stdout.write(`seeding ${AGENTS} agents × ${POINTS} points × 2 measurements into ${DB} (${INFLUX})\n`);
await seed(now);
const from = Math.floor((now - 6 * M) / M) * M;
const to = Math.ceil(now / M) * M;
const one = await measure('one statement over every agent (the former continuous query)', [statement('', from, to)]);
const ids = Array.from({ length: AGENTS }, (_, a) => `bench-agent-${String(a).padStart(5, '0')}`);
const groups = [];
for (let i = 0; i < ids.length; i += PER_QUERY) groups.push(ids.slice(i, i + PER_QUERY).map((id) => `"agent_id" = '${id}'`).join(' OR '));
const chunked = await measure(`one statement per ${PER_QUERY} agents (the ingest service's downsampler, without its pauses)`, groups.map((g) => statement(g, from, to)));
const rows = [one, chunked];
const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
process.stdout.write(
  [
    '',
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} × ${cpuModel}, ${AGENTS} agents (${2 * AGENTS} series), ${POINTS} points per series, 6 minutes`,
    '',
    '| how | queries | wall s | InfluxDB CPU s | InfluxDB cores busy (mean) | longest query ms |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.queries} | ${r.wallS.toFixed(1)} | ${r.influxCpuS.toFixed(1)} | ${r.cores.toFixed(2)} | ${r.longestQueryMs.toFixed(0)} |`),
    '',
  ].join('\n'),
);
await query(`DROP DATABASE "${DB}"`, '');
