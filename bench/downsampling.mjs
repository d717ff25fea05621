// What downsampling costs, four ways: one `SELECT mean(*), min(*), max(*), count(*), sum(*) INTO agg_1m
// … GROUP BY time(1m), *` over every agent (the former continuous query); the same statement per group
// of 50 agents, one after another (the ingest service's downsampler until item 45); what the service
// does since item 45: per group, the raw points read once (`SELECT *`, chunked) and the aggregates
// computed by the service's own code (services/ingest/dist: aggregateGroup, with BucketAggregator and
// InfluxClient) and written as line protocol, on this process's event loop (DOWNSAMPLE_THREAD=false);
// and the same in the downsampling thread (AggregatorThread, the default since item 48). Without the
// service's pauses, so the figures are the queries' own.
//
//   node scripts/lib/infra.mjs up test          # InfluxDB of the test profile (AGENTMON_TEST_PORT_OFFSET honoured)
//   npx tsc -b services/ingest/tsconfig.build.json   # the built service (npm start and npm test build it too)
//   node bench/downsampling.mjs [--agents 10000] [--points 4] [--per-query 50] [--no-single] [--variants]
//
// It seeds its own database (agentmon_bench_downsampling) with what the steady phase of
// bench/ingest.mjs leaves (`steadySeries` of bench/lib/data.mjs): --agents agents, each with an
// `agent_metrics` (2 float fields) and a `performance_metrics` point (3 fields) every 10 s for
// --points × 10 s in the last minutes, with the tags ingest stores (20,000 series for 10,000 agents);
// `--points 60` is ten minutes of an agent pushing every 10 s, what a run of the service covers. Then, for each way, it reports the wall time, InfluxDB's CPU (user +
// system from /proc, so run it on an otherwise quiet machine), this process's CPU, every thread of it (the
// last two ways' reading, aggregating and writing, which the service would spend), the delay of this
// process's event loop (what ingest's requests would wait), and the longest single query:
// the stretch during which InfluxDB competes with everything else on the machine. Each way writes
// into a retention policy of its own, and the last two ways' aggregates are compared with the second's.
// `--variants` also times, group by group, variants of the statement (one function alone, the raw
// points alone, the agents as one regular expression, the measurements named, without INTO), to show
// where InfluxDB's cost lies (docs/benchmarks.md, item 45).
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { PROFILES } from '../scripts/lib/infra.mjs';
import { steadySeries } from './lib/data.mjs';
import { influxQuery, influxdCpuMs } from './lib/influx.mjs';
import { InProcessAggregator } from '../services/ingest/dist/downsample/aggregate-group.js';
import { downsampleStatement, rawPointsStatement } from '../services/ingest/dist/downsample/downsample-plan.js';
import { AggregatorThread } from '../services/ingest/dist/downsample/aggregator-thread.js';
import { InfluxClient } from '../services/ingest/dist/influx/influx.client.js';

const { values } = parseArgs({
  options: { agents: { type: 'string', default: '10000' }, points: { type: 'string', default: '4' }, 'per-query': { type: 'string', default: '50' }, 'no-single': { type: 'boolean', default: false }, variants: { type: 'boolean', default: false } },
});
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
  for (const rp of ['agg_single', 'agg_statement', 'agg_1m', 'agg_thread']) await query(`CREATE RETENTION POLICY "${rp}" ON "${DB}" DURATION 365d REPLICATION 1`, '');
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

/** the former continuous query's statement, over every agent */
const singleStatement = (from, to) =>
  `SELECT mean(*), min(*), max(*), count(*), sum(*) INTO "${DB}"."agg_single".:MEASUREMENT FROM "${DB}"."raw"./.*/ WHERE time >= ${from}ms AND time < ${to}ms GROUP BY time(1m), *`;

const influx = new InfluxClient({ url: INFLUX, database: DB, timeoutMs: 300_000 });
/** a job of the service's (chunks of 1,000 rows and writes of 5,000 lines: CHUNK_ROWS, WRITE_LINES of downsampler.service.ts) */
const job = (statement, types, rp) => ({ statement, db: DB, rp, bucketMs: M, types, chunkRows: 1_000, writeLines: 5_000, timeoutMs: 300_000 });
/**
 * The service's way for one group (services/ingest/src/downsample: aggregateGroup), on this thread
 * (DOWNSAMPLE_THREAD=false) or in the downsampling thread (AggregatorThread, the default since item 48)
 */
async function readAndAggregate(aggregator, agents, from, to, types, rp) {
  const outcome = await aggregator.aggregate(job(rawPointsStatement(DB, agents, from, to), types, rp));
  if (!outcome.here) throw new Error(`the aggregator gave up: ${outcome.reason}`);
}

async function measure(name, tasks) {
  await new Promise((r) => setTimeout(r, 3000)); // what the writes left behind settles first
  // how late a timer of this process ran (perf_hooks): in the service the event loop also serves
  // ingest's requests. It counts the waits for a core too (InfluxDB busy on the same two cores).
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const c0 = cpuMs();
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  let longest = 0;
  for (const task of tasks) {
    const q0 = performance.now();
    await task();
    longest = Math.max(longest, performance.now() - q0);
  }
  const wall = performance.now() - t0;
  const cpu = cpuMs() - c0;
  const own = process.cpuUsage(own0);
  loop.disable();
  return { name, queries: tasks.length, wallS: wall / 1000, influxCpuS: cpu / 1000, ownCpuS: (own.user + own.system) / 1e6, longestQueryMs: longest, cores: cpu / wall, loopMaxMs: loop.max / 1e6, loopP99Ms: loop.percentile(99) / 1e6 };
}

const now = Date.now();
process.stdout.write(`seeding ${AGENTS} agents × ${POINTS} points × 2 measurements into ${DB} (${INFLUX})\n`);
await seed(now);
// from the minute before the first seeded point (as a run of the service reaches a period further back)
const from = Math.floor((now - M - POINTS * 10_000 - M) / M) * M;
const to = Math.ceil(now / M) * M;
const ids = Array.from({ length: AGENTS }, (_, a) => `bench-agent-${String(a).padStart(5, '0')}`);
/** the agents of each query, as the service groups them */
const groups = [];
for (let i = 0; i < ids.length; i += PER_QUERY) groups.push(ids.slice(i, i + PER_QUERY));
const rows = [];
if (values.variants) {
  const range = `time >= ${from}ms AND time < ${to}ms`;
  const raw = `"${DB}"."raw"./.*/`;
  const all = 'mean(*), min(*), max(*), count(*), sum(*)';
  const regex = (g) => `"agent_id" =~ /^(?:${g.join('|')})$/`;
  const where = (g) => g.map((id) => `"agent_id" = '${id}'`).join(' OR ');
  const variants = [
    ['the statement per group, as the downsampler had it', (g) => `SELECT ${all} INTO "${DB}"."agg_statement".:MEASUREMENT FROM ${raw} WHERE (${where(g)}) AND ${range} GROUP BY time(1m), *`],
    ['… without INTO', (g) => `SELECT ${all} FROM ${raw} WHERE (${where(g)}) AND ${range} GROUP BY time(1m), *`],
    ['… the agents as one regular expression', (g) => `SELECT ${all} INTO "${DB}"."agg_statement".:MEASUREMENT FROM ${raw} WHERE ${regex(g)} AND ${range} GROUP BY time(1m), *`],
    ['… the two measurements named instead of /.*/', (g) => `SELECT ${all} INTO "${DB}"."agg_statement".:MEASUREMENT FROM "${DB}"."raw"."agent_metrics", "${DB}"."raw"."performance_metrics" WHERE (${where(g)}) AND ${range} GROUP BY time(1m), *`],
    ['mean(*) alone', (g) => `SELECT mean(*) FROM ${raw} WHERE (${where(g)}) AND ${range} GROUP BY time(1m), *`],
    ['count(*) alone', (g) => `SELECT count(*) FROM ${raw} WHERE (${where(g)}) AND ${range} GROUP BY time(1m), *`],
    ['the raw points, SELECT * … GROUP BY *', (g) => `SELECT * FROM ${raw} WHERE (${where(g)}) AND ${range} GROUP BY *`],
  ];
  for (const [name, q] of variants) {
    const r = await measure(name, groups.map((g) => () => query(q(g))));
    process.stdout.write(`variant: ${name}: ${((r.influxCpuS * 1e6) / AGENTS).toFixed(0)} µs of InfluxDB CPU per agent (${r.influxCpuS.toFixed(2)} s over ${r.queries} queries)\n`);
  }
}
if (!values['no-single']) rows.push(await measure('one statement over every agent (the former continuous query)', [() => query(singleStatement(from, to))]));
const statementLevel = { rp: 'agg_statement', bucketMs: M };
rows.push(await measure(`one statement per ${PER_QUERY} agents (the downsampler until item 45)`, groups.map((g) => () => query(downsampleStatement(DB, statementLevel, g, from, to)))));
const types = await influx.fieldTypes(DB, 'raw');
const here = new InProcessAggregator(influx);
rows.push(await measure(`per ${PER_QUERY} agents, raw points read once and aggregated by the service's code on the event loop (item 45; DOWNSAMPLE_THREAD=false)`, groups.map((g) => () => readAndAggregate(here, g, from, to, types, 'agg_1m'))));
const thread = new AggregatorThread({ url: INFLUX, database: DB, timeoutMs: 300_000 }, console);
// the thread's start (a new V8 isolate, the client's modules) is paid once per process: not in the figures
await thread.aggregate(job(rawPointsStatement(DB, ['none'], 0, 1), types, 'agg_thread'));
rows.push(await measure(`… the same in the downsampling thread (since item 48)`, groups.map((g) => () => readAndAggregate(thread, g, from, to, types, 'agg_thread'))));
await thread.close();
// the service's aggregates are InfluxDB's own (bench/lib/influx.mjs answers with full precision)
const stored = async (rp) => JSON.stringify((await query(`SELECT * FROM "${rp}"./.*/ GROUP BY *`))[0]?.series ?? []);
const statementAggregates = await stored('agg_statement');
const same = statementAggregates === (await stored('agg_1m')) && statementAggregates === (await stored('agg_thread'));
const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
process.stdout.write(
  [
    '',
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} × ${cpuModel}, ${AGENTS} agents (${2 * AGENTS} series), ${POINTS} points per series, ${(to - from) / M} minutes`,
    '',
    '| how | queries | wall s | InfluxDB CPU s | this process CPU s | InfluxDB cores busy (mean) | longest query ms | event-loop delay p99 / max ms |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.queries} | ${r.wallS.toFixed(1)} | ${r.influxCpuS.toFixed(1)} | ${r.ownCpuS.toFixed(1)} | ${r.cores.toFixed(2)} | ${r.longestQueryMs.toFixed(0)} | ${r.loopP99Ms.toFixed(1)} / ${r.loopMaxMs.toFixed(1)} |`),
    '',
    `The aggregates of the last two ways ${same ? 'are the same as' : '**differ from**'} those of the statement per group.`,
    '',
  ].join('\n'),
);
await query(`DROP DATABASE "${DB}"`, '');
