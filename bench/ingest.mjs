#!/usr/bin/env node
// The ingest benchmark (issue 4, item 7). One command, from the repository root:
//
//   node bench/ingest.mjs
//
// It brings up everything itself on its own ports (profile "bench" of scripts/lib/infra.mjs: NATS
// with JetStream 24222, Redis 26379, InfluxDB 28086, services 28000-28005, databases agentmon_bench_*;
// PostgreSQL is the machine's, on 5432), builds the libraries and services (skip with --no-build),
// starts the six services from their built dist with production defaults (auth, registry, ingest,
// alerting, notification, gateway; not the dashboard), mints an ingest:write API key through the
// gateway (admin login + POST /api/v2/api-keys), then measures:
//
//   1. steady: --agents simulated agents (10,000) sending --rate requests/s (1,000) in total for
//      --duration s (30), after a --warmup (10 s, every agent pushes once and is registered) and a
//      pause until its registrations are written and their events consumed (at most 45 s). Open-loop
//      arrival schedule: latency counts from the time a request was due, so queueing is not hidden.
//      Each request is one agent's JSON batch: one agent_metrics and one performance_metrics point.
//   2. direct baseline: --batches (300) line-protocol batches of --batch-points (5,000) written
//      straight to InfluxDB's /write over --peak-connections (4) keep-alive connections, as fast as
//      it answers, into ingest's own database (as measurement bench_base); the clock stops when a
//      count query sees every point.
//   3. peak through ingest: the same batches posted to ingest's /api/v2/write the same way: accepted
//      points/s (until the last 204) and end-to-end points/s (until a count query in InfluxDB sees
//      every point), points lost = sent − stored.
// CPU and memory of every process are sampled once a second from /proc during each phase; NATS's
// message counts over the steady window and InfluxDB's own counters over each peak phase are read
// from their monitoring endpoints. The
// results are printed as Markdown and written into docs/benchmarks.md (newest first; --no-write to
// skip), and as JSON under .agentmon/<profile>/bench/.
//
// Before each peak phase it waits until the stream's consumers (writer, registry, alerting) are idle
// and the whole machine has been quiet (within 10 points of its idle CPU) for 2 s, at most 60 s (InfluxDB compacts
// for a while after the direct writes were answered).
// Methodology and results: docs/benchmarks.md.
//
// Options (defaults shown): --duration 30 --warmup 10 --lead-in 5 (s of the steady load before its
// measured window, reported apart) --idle 5 (s of no load, for the baseline CPU)
// --rate 1000 --agents 10000 --connections 64 (steady keep-alive connections) --batches 300 (1.5 million
// points, phases of 4.0–6.8 s: long enough that both paths pay InfluxDB's cache snapshots and
// compactions and ingest's one-off costs weigh less; 100 batches gave phases of 1.3–2.3 s; item 34)
// --batch-points 5000 --peak-connections 4 --peak-agents 1000 --ingest-replicas 1 (ingest processes, the
// load round robin over them; 2 on this 2-core machine cost more than they spread, see docs/benchmarks.md)
// --settle 30 (s without progress before
// points count as lost) --profile bench|test (test honours AGENTMON_TEST_PORT_OFFSET; either profile is
// emptied first: databases, streams, time series, Redis) --no-build
// --no-write --label "text" --cpu-prof ingest[,registry,…] (a V8 profile per phase, see
// bench/cpuprofile-top.mjs) --env ingest:KEY=VALUE (extra service settings; repeatable)
// --compete BUSY:IDLE (a competing process, bench/lib/compete.mjs, that spins BUSY ms and sleeps IDLE ms
// over and over for the whole run: the stack with less than the two cores, as on a slower or shared
// machine; 3:1 takes about three quarters of a core) --pause 0 (s, at least, between the end of the
// warm-up and the steady lead-in: how the stack answers after a quiet spell) --cpu-quota CORES (the
// benchmark and the stack it starts confined by a cgroup to CORES cores' worth of CPU time, the
// machine's PostgreSQL apart: bench/lib/cpu-quota.mjs; root only).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { ROOT, PROFILES, ensureInfra, portOpen, stopInfra } from '../scripts/lib/infra.mjs';
import { ensureSecrets } from '../scripts/lib/setup.mjs';
import { cpuQuota } from './lib/cpu-quota.mjs';
import { replicaPort } from '../scripts/lib/stack.mjs';
import { DIRECT_MEASUREMENT, PEAK_MEASUREMENT } from './lib/data.mjs';
import { influxQuery as query } from './lib/influx.mjs';
import { buildServices, mintKeys, serviceSettings } from './lib/stack-setup.mjs';
import { readMachine, stackProcessGroups, startSampler } from './lib/procstat.mjs';

const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '10' },
    'lead-in': { type: 'string', default: '5' },
    idle: { type: 'string', default: '5' },
    rate: { type: 'string', default: '1000' },
    agents: { type: 'string', default: '10000' },
    connections: { type: 'string', default: '64' },
    batches: { type: 'string', default: '300' },
    'batch-points': { type: 'string', default: '5000' },
    'peak-connections': { type: 'string', default: '4' },
    'peak-agents': { type: 'string', default: '1000' },
    'ingest-replicas': { type: 'string', default: '1' },
    settle: { type: 'string', default: '30' },
    keys: { type: 'string' },
    'timeout-ms': { type: 'string', default: '10000' },
    profile: { type: 'string', default: 'bench' },
    build: { type: 'boolean', default: true },
    'no-build': { type: 'boolean', default: false },
    write: { type: 'boolean', default: true },
    'no-write': { type: 'boolean', default: false },
    label: { type: 'string' },
    'cpu-prof': { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    'from-json': { type: 'string' },
    compete: { type: 'string' },
    'cpu-quota': { type: 'string' },
    pause: { type: 'string', default: '0' },
  },
});
const num = (k) => {
  const v = Number(opt[k]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${k} must be a number`);
  return v;
};
const cfg = {
  durationS: num('duration'),
  warmupS: num('warmup'),
  /** s of the steady load sent before its measured window, reported apart (runs before 2026-11-28 13:30: none) */
  leadInS: num('lead-in'),
  idleS: num('idle'),
  rate: num('rate'),
  agents: num('agents'),
  connections: num('connections'),
  batches: num('batches'),
  batchPoints: num('batch-points'),
  peakConnections: num('peak-connections'),
  peakAgents: num('peak-agents'),
  settleS: num('settle'),
  timeoutMs: num('timeout-ms'),
  ingestReplicas: Math.max(1, Math.round(num('ingest-replicas'))),
  /** the direct baseline writes into ingest's database (runs before 2026-11-28: into an empty one) */
  directIntoIngestDb: true,
  /** no count query while the peak batches are sent (runs before 2026-11-28: one every 5 s) */
  countAfterSending: true,
  /** --pause: s at least between the warm-up's end and the steady lead-in (runs before 2026-11-29: none but the settling) */
  pauseS: num('pause'),
  /** --compete: the competing process's spin and sleep, in ms (undefined: none) */
  compete: competeOption(opt.compete),
  /** --cpu-quota: the cores' worth of CPU time the benchmark and its stack had (undefined: no limit) */
  cpuQuota: opt['cpu-quota'] === undefined ? undefined : num('cpu-quota'),
};
function competeOption(v) {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(v);
  if (!m || !(Number(m[1]) > 0)) throw new Error('--compete must be BUSY:IDLE in ms, BUSY above 0 (e.g. 3:1)');
  return { busyMs: Number(m[1]), idleMs: Number(m[2]) };
}
// enough keys that each carries at most 50 requests/s, half of ingest's default per-key limit
cfg.keys = opt.keys !== undefined ? Math.max(1, num('keys')) : Math.max(1, Math.ceil(cfg.rate / 50));
const profileName = opt.profile;
const profile = PROFILES[profileName];
if (!profile || profileName === 'dev') throw new Error('--profile must be bench or test');
const build = opt.build && !opt['no-build'];
const writeDocs = opt.write && !opt['no-write'];
const outDir = path.join(profile.dir, 'bench');
const say = (m) => process.stdout.write(`\x1b[36m[bench]\x1b[0m ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

const INFLUX = `http://127.0.0.1:${profile.influx.port}`;
/** every ingest replica (--ingest-replicas); the load goes round robin over them, as through a Service */
const INGESTS = Array.from({ length: cfg.ingestReplicas }, (_, i) => `http://127.0.0.1:${replicaPort(profile.ports.ingest, i + 1)}`);
const GATEWAY = `http://127.0.0.1:${profile.ports.gateway}`;
const DB = 'agentmon'; // ingest's INFLUX_DATABASE in serviceEnv()
/** where runs before 2026-11-28 wrote the direct baseline (an empty database); dropped when the profile is reset */
const FORMER_DIRECT_DB = 'bench_direct';

const SERVICES = ['auth', 'registry', 'ingest', 'alerting', 'notification', 'gateway'];
let stack;
let competitor;
let startedInfra = [];
let cpuProfDir;

const influxQuery = (q, db) => query(INFLUX, q, db);

async function count(db, measurement, field) {
  const r = await influxQuery(`SELECT count("${field}") FROM "${db}"."raw"."${measurement}"`);
  return r[0]?.series?.[0]?.values?.[0]?.[1] ?? 0;
}

/** Empty databases, streams, time series and Redis, as `npm test` does before its stack. */
async function resetState() {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: `postgres://postgres@${profile.postgres.host}:${profile.postgres.port}/postgres` });
  await client.connect();
  for (const svc of ['auth', 'registry', 'alerting', 'notification']) await client.query(`DROP DATABASE IF EXISTS ${profile.postgres.dbPrefix}${svc} WITH (FORCE)`);
  await client.end();
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: `nats://127.0.0.1:${profile.nats.port}` });
  const jsm = await jetstreamManager(nc);
  for await (const s of jsm.streams.list()) await jsm.streams.delete(s.config.name);
  await nc.close();
  await influxQuery(`DROP DATABASE ${DB}`);
  await influxQuery(`DROP DATABASE ${FORMER_DIRECT_DB}`);
  const { default: Redis } = await import('ioredis');
  const redis = new Redis(`redis://127.0.0.1:${profile.redis.port}/${profile.redis.db}`);
  await redis.flushdb();
  redis.disconnect();
}

function runWorker(job, onMessage) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./lib/load.worker.mjs', import.meta.url), { workerData: job });
    w.on('message', (m) => (m.type === 'result' ? resolve(m.result) : onMessage?.(m)));
    w.on('error', reject);
    w.on('exit', (code) => code !== 0 && reject(new Error(`load worker exited with ${code}`)));
  });
}

/** The process groups sampled in every phase. */
function processGroups() {
  const groups = stackProcessGroups(stack, profile);
  groups['bench (load generator)'] = [process.pid];
  return groups;
}

/** A service that stopped makes every figure after it meaningless. */
function assertStackAlive() {
  const dead = stack.children.filter(({ child }) => child.exitCode !== null || child.signalCode !== null);
  if (dead.length) throw new Error(`${dead.map((d) => d.name).join(', ')} stopped during the benchmark; see ${path.join(profile.dir, 'logs')}`);
}

/** CPU of the whole machine (% of one core) in the idle phase */
let idleMachineCpu = 0;

/**
 * Waits until the whole machine has been nearly idle (under `belowPercent` of one core, all cores
 * counted) for two consecutive seconds, at most `maxS` (60) s; returns how long that took and the
 * last second's CPU. Nearly idle: at most 10 points above what the machine used in the idle phase
 * (other processes on a shared machine never stop: waiting for under 10% where the idle phase took
 * 13% waited the full minute, and the steady fleet went offline during the peak through ingest).
 */
async function waitMachineQuiet(belowPercent = idleMachineCpu + 10, maxS = 60) {
  const t0 = Date.now();
  let quiet = 0;
  let cpuPercent = 0;
  while (Date.now() - t0 < maxS * 1000) {
    const a = readMachine();
    await sleep(1000);
    const b = readMachine();
    cpuPercent = ((b.busy - a.busy) / Math.max(1, b.total - a.total)) * 100 * os.cpus().length;
    quiet = cpuPercent < belowPercent ? quiet + 1 : 0;
    if (quiet >= 2) break;
  }
  return { waitedS: (Date.now() - t0) / 1000, cpuPercent };
}

async function phase(name, fn) {
  assertStackAlive();
  if (cpuProfDir) {
    writeFileSync(path.join(cpuProfDir, 'phase'), name);
    await sleep(400);
  }
  const load = os.loadavg();
  const sampler = startSampler(processGroups());
  const t = now();
  const result = await fn(sampler);
  const usage = sampler.stop();
  assertStackAlive();
  return { ...result, usage, loadBefore: load, wallS: (now() - t) / 1000 };
}

/**
 * Waits until a count query in InfluxDB sees `expected` points. Counting a few hundred thousand
 * points costs InfluxDB real CPU (100–800 ms each in the recorded runs), so no count runs while the
 * batches are being sent (it would slow the path that takes longer, and only that one); after that
 * the count runs when `ready()` (a cheap check: the writer's consumer has nothing left, or the direct
 * writes were answered) says the points should be there, and otherwise every 5 s to follow progress.
 * Gives up when the count has not grown for --settle s after sending ended: what is missing then is
 * lost.
 */
async function waitForCount({ db, measurement, field, expected, start, sendingDone, ready = async () => true }) {
  let stored = 0;
  let lastChange = null;
  let lastChangeAt = start;
  let lastCount = 0;
  let queries = 0;
  let queryMs = 0;
  let sent = false;
  void sendingDone.then(() => {
    sent = true;
    lastChange = now();
    // the first progress count 5 s after sending ended, not at once: the writer may still be writing
    lastCount = lastChange;
  });
  for (;;) {
    const t = now();
    const due = sent && ((await ready().catch(() => false)) || t - lastCount > 5000);
    if (due) {
      lastCount = t;
      let c;
      try {
        c = await count(db, measurement, field);
      } catch {
        c = stored; // InfluxDB busy: try again
      }
      queries++;
      queryMs += now() - t;
      if (c !== stored) {
        stored = c;
        lastChange = now();
        lastChangeAt = t;
      }
      if (stored >= expected) return { stored, completeAt: t, lastChangeAt, queries, queryMsMean: queryMs / queries };
    }
    if (sent && now() - lastChange > cfg.settleS * 1000) return { stored, completeAt: null, lastChangeAt, queries, queryMsMean: queries ? queryMs / queries : 0 };
    await sleep(due ? 200 : 100);
  }
}

/** True when the InfluxDB writer has written and acknowledged every stream message it was given. */
async function writerIdle() {
  const w = await writerState();
  return !w.error && w.pending === 0 && w.ackPending === 0;
}

/**
 * InfluxDB's own counters (`/debug/vars`), summed over its HTTP listeners and shards: what it did for
 * a phase's writes, read before the phase and again once its points were queryable. They tell one
 * run's InfluxDB cost per point from another's (write sizes, cache snapshots, compactions, Go's GC).
 */
async function influxCounters() {
  const res = await fetch(`${INFLUX}/debug/vars`);
  if (!res.ok) throw new Error(`InfluxDB /debug/vars answered ${res.status}`);
  const vars = await res.json();
  const c = { writeReq: 0, writeReqBytes: 0, writeReqDurationNs: 0, pointsWrittenOK: 0, snapshots: 0, snapshotNs: 0, compactions: 0, compactionNs: 0 };
  for (const [key, v] of Object.entries(vars)) {
    const x = v?.values;
    if (key.startsWith('httpd')) for (const f of ['writeReq', 'writeReqBytes', 'writeReqDurationNs', 'pointsWrittenOK']) c[f] += x[f] ?? 0;
    if (key.startsWith('tsm1_engine')) {
      c.snapshots += x.cacheCompactions ?? 0;
      c.snapshotNs += x.cacheCompactionDuration ?? 0;
      for (const kind of ['tsmLevel1', 'tsmLevel2', 'tsmLevel3', 'tsmOptimize', 'tsmFull']) {
        c.compactions += x[`${kind}Compactions`] ?? 0;
        c.compactionNs += x[`${kind}CompactionDuration`] ?? 0;
      }
    }
  }
  c.gcs = vars.memstats.NumGC;
  c.gcPauseNs = vars.memstats.PauseTotalNs;
  c.allocBytes = vars.memstats.TotalAlloc;
  return c;
}

/**
 * NATS's own message counts (its monitoring endpoint, which profile "bench" of scripts/lib/infra.mjs
 * opens): the server's, and each named connection's (the services name theirs, e.g. `ingest-events`).
 * null when the endpoint does not answer (a NATS started before it had one).
 */
async function natsCounts() {
  const port = profile.nats.monitorPort;
  if (!port) return null;
  try {
    const read = async (what) => {
      const res = await fetch(`http://127.0.0.1:${port}/${what}`);
      if (!res.ok) throw new Error(`NATS /${what} answered ${res.status}`);
      return res.json();
    };
    const [varz, connz] = await Promise.all([read('varz'), read('connz?limit=1024')]);
    const byName = {};
    for (const c of connz.connections ?? []) {
      const x = (byName[c.name || '(unnamed)'] ??= { in: 0, out: 0 });
      x.in += c.in_msgs;
      x.out += c.out_msgs;
    }
    return { in: varz.in_msgs, out: varz.out_msgs, byName };
  } catch {
    return null;
  }
}

/** The messages between two natsCounts (a connection that closed in between is left out). */
function natsDelta(a, b) {
  if (!a || !b) return null;
  const byName = {};
  for (const [n, x] of Object.entries(b.byName)) byName[n] = { in: x.in - (a.byName[n]?.in ?? 0), out: x.out - (a.byName[n]?.out ?? 0) };
  return { in: b.in - a.in, out: b.out - a.out, byName };
}

const counterDelta = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - a[k]]));

async function peakPhase(label, target) {
  const expected = cfg.batches * cfg.batchPoints;
  let resolveStarted;
  const started = new Promise((r) => (resolveStarted = r));
  const job = {
    kind: 'peak',
    urls: target.urls,
    headers: target.headers,
    batches: cfg.batches,
    batchPoints: cfg.batchPoints,
    agents: cfg.peakAgents,
    t0: peakT0,
    measurement: target.measurement,
    connections: cfg.peakConnections,
    timeoutMs: 60_000,
  };
  return phase(label, async (sampler) => {
    const stopWatch = watchWriter();
    const influxBefore = await influxCounters();
    const sending = runWorker(job, (m) => m.type === 'started' && resolveStarted(m.at));
    // a worker that fails before it started sending ends the phase (and the run, which stops the stack)
    const start = await Promise.race([started, sending.then(() => Promise.reject(new Error('the load worker ended before it started sending')))]);
    const markStart = sampler.mark();
    const counted = waitForCount({ db: target.db, measurement: target.measurement, field: 'cpu_usage', expected, start, sendingDone: sending.catch(() => undefined), ready: target.ready });
    const send = await sending;
    const c = await counted;
    // CPU from the first request until every point was queryable (or the count gave up)
    const window = sampler.between(markStart, sampler.mark());
    const influx = counterDelta(influxBefore, await influxCounters());
    const writerTimeline = (await stopWatch()).map((w) => ({ ...w, at: Math.round(w.at - send.start) }));
    const acceptS = (send.end - send.start) / 1000;
    const endToEndS = ((c.completeAt ?? c.lastChangeAt) - send.start) / 1000;
    return {
      expected,
      stored: c.stored,
      lost: expected - c.stored,
      complete: c.completeAt !== null,
      acceptS,
      acceptedPointsPerS: (expected - send.failedBatches * cfg.batchPoints) / acceptS,
      endToEndS,
      queryableAt: c.completeAt ?? c.lastChangeAt,
      endToEndPointsPerS: c.stored > 0 ? c.stored / endToEndS : 0,
      bytes: send.bytes,
      statuses: send.statuses,
      samples: send.samples,
      retries: send.retries,
      failedBatches: send.failedBatches,
      batchMs: send.batchMs,
      countQueries: c.queries,
      countQueryMsMean: c.queryMsMean,
      writerTimeline,
      window,
      influx,
    };
  });
}

let peakT0;

/** What InfluxDB did for each peak phase, from its own counters (influxCounters). */
function influxTable(r) {
  const out = [
    "**InfluxDB's own counters over each peak phase** (`/debug/vars`, from before the first request until every point was queryable; the count queries' reads included in the GC figures).",
    '',
    '| path | write requests | points per write | mean write time | cache snapshots (their time) | TSM compactions (their time) | Go GCs (pause in all) | allocated per point |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const [name, x] of [['directly', r.direct], ['through ingest', r.peak]]) {
    const i = x.influx;
    const perWrite = i.writeReq ? i.pointsWrittenOK / i.writeReq : 0;
    out.push(
      `| ${name} | ${fmtInt(i.writeReq)} | ${fmtInt(Math.round(perWrite))} | ${i.writeReq ? fmtMs(i.writeReqDurationNs / i.writeReq / 1e6) : '–'} | ${i.snapshots} (${(i.snapshotNs / 1e9).toFixed(1)} s) | ${i.compactions} (${(i.compactionNs / 1e9).toFixed(1)} s) | ${i.gcs} (${fmtMs(i.gcPauseNs / 1e6)}) | ${i.pointsWrittenOK ? `${Math.round(i.allocBytes / i.pointsWrittenOK)} B` : '–'} |`,
    );
  }
  return out;
}

function machineInfo() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1]?.trim() ?? 'unknown CPU';
  const mhz = /cpu MHz\s*:\s*([\d.]+)/.exec(cpuinfo)?.[1];
  const git = (args) => {
    try {
      return execFileSync('git', args, { cwd: ROOT }).toString().trim();
    } catch {
      return '';
    }
  };
  const dirty = git(['status', '--porcelain', '--untracked-files=no']).split('\n').filter(Boolean).length;
  const version = (cmd, args, re) => {
    try {
      const out = execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
      return re.exec(out)?.[1] ?? out.trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    nproc: os.cpus().length,
    model: mhz ? `${model} @ ${Math.round(Number(mhz))} MHz` : model,
    memGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    influx: version('influxd', ['version'], /InfluxDB (v[\d.]+\S*)/),
    nats: version('nats-server', ['--version'], /(v[\d.]+)/),
    commit: git(['rev-parse', '--short', 'HEAD']),
    dirtyFiles: dirty,
  };
}

/**
 * The observations a Prometheus histogram (its `_bucket`, `_count` lines, summed over processes) gained
 * between two scrapes: their count, and the share within each bucket's bound.
 */
function histogramDelta(before = [], after = []) {
  const buckets = (lines) => {
    const m = new Map();
    for (const l of lines) {
      const b = /_bucket\{.*le="([^"]+)".*\}\s+(\S+)$/.exec(l);
      if (b && b[1] !== '+Inf') m.set(Number(b[1]), (m.get(Number(b[1])) ?? 0) + Number(b[2]));
    }
    return m;
  };
  const count = (lines) => sumOf(lines.filter((l) => /_count(\{.*\})?\s/.test(l)));
  const n = count(after) - count(before);
  if (!(n > 0)) return undefined;
  const b0 = buckets(before);
  const within = [...buckets(after)].sort(([a], [b]) => a - b).map(([le, v]) => [le, (v - (b0.get(le) ?? 0)) / n]);
  return { count: n, within };
}

/** The sum of the values of Prometheus text lines (`name{labels} value`). */
function sumOf(lines = []) {
  return lines.reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

/** Selected /metrics lines of every ingest replica (counters of several replicas: add them up with `sumOf`). */
async function ingestMetrics() {
  try {
    const text = (await Promise.all(INGESTS.map(async (u) => (await fetch(`${u}/metrics`, { signal: AbortSignal.timeout(5000) })).text()))).join('\n');
    const pick = (name) =>
      text
        .split('\n')
        .filter((l) => l.startsWith(name))
        .map((l) => l.trim());
    return {
      requests: pick('agentmon_ingest_requests_total'),
      linesWritten: pick('agentmon_influx_lines_written_total'),
      writeFailures: pick('agentmon_influx_write_failures_total'),
      publishSeconds: pick('agentmon_ingest_publish_seconds_'),
      streamMessages: pick('agentmon_ingest_stream_messages_total'),
      writeSeconds: pick('agentmon_influx_write_seconds_'),
      httpSeconds: pick('agentmon_http_request_duration_seconds_sum').concat(pick('agentmon_http_request_duration_seconds_count')),
      downsampleRuns: pick('agentmon_ingest_downsample_runs_total'),
    };
  } catch {
    return null;
  }
}

/** The InfluxDB writer's JetStream consumer: what it has not yet written (diagnostics). */
let jsm;
async function writerState() {
  try {
    if (!jsm) {
      const { connect } = await import('@nats-io/transport-node');
      const { jetstreamManager } = await import('@nats-io/jetstream');
      diagNc = await connect({ servers: `nats://127.0.0.1:${profile.nats.port}` });
      jsm = await jetstreamManager(diagNc);
    }
    const c = await jsm.consumers.info('AGENTMON_TELEMETRY', 'ingest-influx-all-lines');
    return { at: now(), pending: c.num_pending, ackPending: c.num_ack_pending, redelivered: c.num_redelivered, delivered: c.delivered.stream_seq, acked: c.ack_floor.stream_seq };
  } catch (err) {
    return { at: now(), error: err.message };
  }
}
let diagNc;

/**
 * Waits until every durable consumer of the telemetry stream (the InfluxDB writer, the registry's
 * heartbeats, the alerting evaluator) has nothing left, so that a phase does not pay for the one
 * before it. Returns the seconds each one needed.
 */
async function waitForConsumers(since = now(), timeoutS = 180, allStreams = false) {
  await writerState(); // connects
  const start = since;
  const caughtUp = {};
  const streams = ['AGENTMON_TELEMETRY'];
  if (allStreams) for await (const name of jsm.streams.names()) if (!streams.includes(name)) streams.push(name);
  for (;;) {
    const busy = [];
    for (const stream of streams) {
      for await (const c of jsm.consumers.list(stream)) {
        const left = c.num_pending + c.num_ack_pending;
        if (left > 0) busy.push(`${c.name} ${left}`);
        else caughtUp[c.name] ??= (now() - start) / 1000;
      }
    }
    if (busy.length === 0) return caughtUp;
    if (now() - start > timeoutS * 1000) {
      say(`consumers still busy after ${timeoutS} s: ${busy.join(', ')}; going on`);
      return { ...caughtUp, timedOut: busy };
    }
    await sleep(500);
  }
}

/** Samples the writer's consumer once a second until stop() (diagnostics, kept in the JSON). */
function watchWriter() {
  const timeline = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      timeline.push(await writerState());
      await sleep(1000);
    }
  })();
  return async () => {
    on = false;
    await loop;
    return timeline;
  };
}

async function main() {
  const startedAt = new Date();
  const loadAtStart = os.loadavg();
  mkdirSync(outDir, { recursive: true });
  // a port taken by something else would answer the readiness checks in place of our services; and
  // when it is another run of this benchmark, resetting the profile would empty the databases and
  // streams under it: checked before anything is touched
  for (const [svc, port] of [...SERVICES.map((s) => [s, profile.ports[s]]), ...INGESTS.slice(1).map((u, i) => [`ingest-${i + 2}`, Number(new URL(u).port)])]) {
    if (await portOpen(port)) throw new Error(`port ${port} (${svc} of profile ${profileName}) is already in use (another run of the benchmark?): stop what listens there or choose another profile`);
  }
  // confined before anything starts: every process it starts from now on is in the cgroup too
  const quota = cfg.cpuQuota === undefined ? null : cpuQuota(cfg.cpuQuota);
  if (quota) {
    quota.join(process.pid);
    say(`this process and what it starts are confined to ${quota.cores} cores' worth of CPU time (cgroup ${quota.cgroup}, period ${quota.periodUs / 1000} ms${quota.burst ? ', bursts of one quota' : ''}); the machine's PostgreSQL is not`);
  }
  say(`profile ${profileName}: infrastructure in ${profile.dir}`);
  startedInfra = await ensureInfra(profileName);
  // after the infrastructure is up: on a new machine ensureInfra installs InfluxDB, whose version it reports
  const machine = machineInfo();
  if (build) {
    say('building libraries and services (npx nx run-many -t build --exclude=web); --no-build skips this');
    buildServices();
  }
  for (const svc of SERVICES) {
    if (!existsSync(path.join(ROOT, 'services', svc, 'dist', 'main.js'))) throw new Error(`services/${svc}/dist/main.js is missing: run without --no-build`);
  }
  say('resetting the profile: databases, JetStream streams, InfluxDB databases, Redis');
  await resetState();

  // the agents spread over --keys keys, each within ingest's per-key limit
  const extraEnv = serviceSettings(opt.env);
  if (opt['cpu-prof']) {
    cpuProfDir = path.join(outDir, 'cpu');
    rmSync(cpuProfDir, { recursive: true, force: true });
    mkdirSync(cpuProfDir, { recursive: true });
    writeFileSync(path.join(cpuProfDir, 'phase'), 'start');
    const preload = new URL('./lib/cpu-profile.preload.mjs', import.meta.url).href;
    for (const svc of opt['cpu-prof'].split(',')) {
      extraEnv[svc] = { ...extraEnv[svc], NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`.trim(), AGENTMON_CPU_PROF_DIR: cpuProfDir, AGENTMON_CPU_PROF_NAME: svc };
    }
  }
  const { secrets } = ensureSecrets(profile.dir);
  const { startStack } = await import('../scripts/lib/stack.mjs');
  say(`starting auth, registry, ingest, alerting, notification and gateway from dist (logs in ${path.join(profile.dir, 'logs')})`);
  stack = await startStack(profileName, { secrets, logToFiles: true, withWeb: false, extraEnv, replicas: { ingest: cfg.ingestReplicas } });
  if (quota) {
    // NATS, Redis and InfluxDB of the profile, had they been running before this run (joining again is harmless)
    const groups = stackProcessGroups(stack, profile);
    for (const name of ['nats', 'redis', 'influxdb']) for (const pid of groups[name]) quota.join(pid);
  }
  const keys = await mintKeys(GATEWAY, secrets.AGENTMON_ADMIN_PASSWORD, cfg.keys);
  say(`minted ${keys.length} ingest:write API keys through the gateway (the agents share them round robin)`);
  // the ingest service creates its database and retention policies at start
  for (let i = 0; ; i++) {
    const rps = await influxQuery(`SHOW RETENTION POLICIES ON ${DB}`).catch(() => null);
    if (rps?.[0]?.series?.[0]?.values?.some((v) => v[0] === 'raw')) break;
    if (i > 120) throw new Error('ingest did not create its InfluxDB retention policies within 60 s');
    await sleep(500);
  }

  const steadyJob = (seconds, firstSeq, leadInS = 0) => ({
    kind: 'steady',
    urls: INGESTS.map((u) => `${u}/api/v2/ingest`),
    keys,
    rate: cfg.rate,
    durationS: seconds,
    leadInS,
    agents: cfg.agents,
    connections: cfg.connections,
    timeoutMs: cfg.timeoutMs,
    firstSeq,
  });
  if (cfg.compete) {
    const script = new URL('./lib/compete.mjs', import.meta.url).pathname;
    competitor = spawn(process.execPath, [script, String(cfg.compete.busyMs), String(cfg.compete.idleMs)], { stdio: 'ignore' });
    say(`a competing process (bench/lib/compete.mjs, pid ${competitor.pid}) spins ${cfg.compete.busyMs} ms and sleeps ${cfg.compete.idleMs} ms, over and over, until the run ends`);
    await sleep(1000);
  }
  // what the stack costs with no load at all (timers, health checks, downsampling)
  say(`idle: ${cfg.idleS} s without load`);
  const idle = await phase('idle', () => sleep(cfg.idleS * 1000).then(() => ({})));
  idleMachineCpu = idle.usage.machine.cpuMean;
  let warmup = null;
  if (cfg.warmupS > 0) {
    say(`warm-up: ${cfg.rate} requests/s for ${cfg.warmupS} s (${Math.min(cfg.agents, cfg.rate * cfg.warmupS)} agents push for the first time)`);
    warmup = await phase('warmup', () => runWorker(steadyJob(cfg.warmupS, 0)));
    if (warmup.ok === 0) throw new Error(`every warm-up request failed: ${JSON.stringify(warmup.errors)} ${warmup.samples.join(' | ')}`);
    // the steady phase measures the fleet pushing, not the aftermath of 10,000 first pushes: it starts
    // once the registrations are written and their events consumed (every stream's consumers idle)
    // and the machine has calmed down, at most 45 s later (every agent pushed within the last 55 s
    // then, and pushes again within 10 s: far from the registry's 90 s offline timeout)
    const pauseStart = now();
    const drained = await waitForConsumers(pauseStart, 35, true);
    const calm = await waitMachineQuiet(idleMachineCpu + 30, Math.max(5, 45 - (now() - pauseStart) / 1000));
    const wanted = cfg.pauseS * 1000 - (now() - pauseStart);
    if (wanted > 0) {
      say(`pausing ${(wanted / 1000).toFixed(1)} s more (--pause ${cfg.pauseS})`);
      await sleep(wanted);
    }
    warmup.settled = { pauseS: (now() - pauseStart) / 1000, consumers: drained, machineCpu: calm.cpuPercent };
    say(`warm-up settled: consumers ${JSON.stringify(drained)}, machine at ${calm.cpuPercent.toFixed(0)}% after ${calm.waitedS.toFixed(1)} s`);
  }
  say(`steady: ${cfg.agents} agents, ${cfg.rate} requests/s for ${cfg.durationS} s${cfg.leadInS > 0 ? `, after a lead-in of ${cfg.leadInS} s of the same load (reported apart)` : ''}`);
  const beforeSteady = await ingestMetrics();
  // one worker, so the lead-in's connections carry on into the measured window, whose CPU is sampled from its first request
  let measuring;
  const measuredWindow = new Promise((resolve) => (measuring = resolve));
  const steadyRun = runWorker(steadyJob(cfg.durationS, Math.round(cfg.rate * cfg.warmupS), cfg.leadInS), (m) => m.type === 'measuring' && measuring());
  if (cfg.leadInS > 0) await Promise.race([measuredWindow, steadyRun]);
  // not awaited here: the CPU of the measured window is sampled from its first request
  const natsBefore = natsCounts();
  const steady = await phase('steady', () => steadyRun);
  const natsSteady = natsDelta(await natsBefore, await natsCounts());
  if (steady.leadIn) say(`steady lead-in: p50 ${fmtMs(steady.leadIn.latencyMs.p50)}, p95 ${fmtMs(steady.leadIn.latencyMs.p95)}, ${steady.leadIn.failed} errors`);
  const steadyEnd = now();
  say(`steady: p50 ${fmtMs(steady.latencyMs.p50)}, p95 ${fmtMs(steady.latencyMs.p95)}, p99 ${fmtMs(steady.latencyMs.p99)}, ${steady.failed} errors`);
  // every accepted request carried one agent_metrics point with a unique (agent, time)
  const steadyExpected = (warmup?.ok ?? 0) + (steady.leadIn?.ok ?? 0) + steady.ok;
  const drain = await waitForCount({ db: DB, measurement: 'agent_metrics', field: 'cpu_usage', expected: steadyExpected, start: now(), sendingDone: Promise.resolve(), ready: writerIdle });
  const steadyStored = { expected: steadyExpected, stored: drain.stored, lost: steadyExpected - drain.stored };
  say(`steady: ${drain.stored} of ${steadyExpected} accepted agent_metrics points stored in InfluxDB`);

  const afterSteady = await ingestMetrics();
  const steadyMessages = sumOf(afterSteady?.streamMessages) || NaN;
  // since item 39 of docs/benchmarks.md a batch of known agents is one message (lines), and their heartbeats one a second
  say(`stream messages stored for the warm-up and steady requests (lines, agents of new agents, heartbeats): ${steadyMessages}, ${(steadyMessages / steadyExpected).toFixed(2)} per request`);
  // how long each request waited, over the lead-in and the steady window, from the moment ingest
  // handed its batch on until JetStream had stored the message holding it (coalescing and linger included)
  const steadyPublish = histogramDelta(beforeSteady?.publishSeconds, afterSteady?.publishSeconds);
  if (steadyPublish) say(`steady requests' wait for JetStream (lead-in included; coalescing included): ${steadyPublish.count} requests, stored within ${steadyPublish.within.map(([le, share]) => `${le * 1000} ms: ${(share * 100).toFixed(0)}%`).join(', ')}`);
  const drainAfterSteady = await waitForConsumers(steadyEnd);
  say(`consumers caught up after the steady phase: ${JSON.stringify(drainAfterSteady)}`);
  peakT0 = Date.now() - 120_000;
  await sleep(2000);
  await waitMachineQuiet();
  // background work that may have shared the steady phase: downsampling runs (every 5 minutes by
  // default); one still running holds the machine busy, so it has finished by now
  const okRuns = (m) => sumOf((m?.downsampleRuns ?? []).filter((l) => l.includes('outcome="ok"') && l.includes('level="agg_1m"')));
  const downsamplingDuringSteady = okRuns(await ingestMetrics()) - okRuns(beforeSteady);
  say(`1-minute downsampling runs that finished between the start of the steady phase and now: ${downsamplingDuringSteady}`);
  say(`direct baseline: ${cfg.batches} × ${cfg.batchPoints} points to InfluxDB /write (ingest's database, measurement ${DIRECT_MEASUREMENT}) over ${cfg.peakConnections} connections`);
  const direct = await peakPhase('direct', {
    // into ingest's database, where the steady fleet's series are: InfluxDB writes into an empty
    // database a third faster (bench/influx-write-cost.mjs), which the path through ingest never has
    urls: [`${INFLUX}/write?db=${DB}&rp=raw&precision=ms`],
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    db: DB,
    measurement: DIRECT_MEASUREMENT,
  });
  say(`direct: ${fmtRate(direct.endToEndPointsPerS)} points/s end to end, ${direct.lost} lost`);
  await waitForConsumers();
  await sleep(2000);
  // InfluxDB compacts what the direct writes left for a while after they were answered: the peak
  // through ingest starts, as the direct baseline did, on a machine with nothing left to do
  const settled = await waitMachineQuiet();
  say(`machine quiet again after ${settled.waitedS.toFixed(1)} s (CPU ${settled.cpuPercent.toFixed(0)}% of 200%)`);
  say(`peak through ingest: the same batches to /api/v2/write`);
  const peak = await peakPhase('peak-ingest', {
    urls: INGESTS.map((u) => `${u}/api/v2/write?org=bench&bucket=${DB}&precision=ms`),
    headers: { 'content-type': 'text/plain; charset=utf-8', authorization: `Token ${keys[0]}` },
    db: DB,
    measurement: PEAK_MEASUREMENT,
    ready: writerIdle,
  });
  say(`ingest: ${fmtRate(peak.acceptedPointsPerS)} points/s accepted, ${fmtRate(peak.endToEndPointsPerS)} end to end, ${peak.lost} lost`);
  const drainAfterPeak = await waitForConsumers(peak.queryableAt);
  say(`consumers caught up after the peak phase (s after all points were in InfluxDB): ${JSON.stringify(drainAfterPeak)}`);
  const metrics = await ingestMetrics();
  const writer = await writerState();
  if (peak.lost || steadyStored.lost) say(`points missing; the writer's consumer: ${JSON.stringify(writer)}; ingest metrics: ${JSON.stringify(metrics)}`);
  if (cpuProfDir) {
    writeFileSync(path.join(cpuProfDir, 'phase'), 'end');
    await sleep(1500);
  }

  const result = {
    startedAt: startedAt.toISOString(),
    label: opt.label,
    command: commandLine(),
    profile: profileName,
    machine,
    loadAtStart,
    loadAtEnd: os.loadavg(),
    cfg,
    idle,
    warmup,
    steady,
    steadyStored,
    steadyMessages,
    steadyPublish,
    downsamplingDuringSteady,
    drainAfterSteady,
    natsSteady,
    direct,
    peak,
    drainAfterPeak,
    ratio: peak.endToEndPointsPerS / direct.endToEndPointsPerS,
    ingestMetrics: metrics,
    writer,
    cpuQuota: quota ? { cores: quota.cores, periodUs: quota.periodUs, burst: quota.burst, throttling: quota.throttling() } : undefined,
  };
  const jsonFile = path.join(outDir, `ingest-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(jsonFile, JSON.stringify(result, null, 2));
  const md = markdown(result);
  process.stdout.write(`\n${md}\n`);
  say(`raw results: ${path.relative(ROOT, jsonFile)}`);
  if (cpuProfDir) say(`CPU profiles: ${path.relative(ROOT, cpuProfDir)} (node bench/cpuprofile-top.mjs <file>)`);
  if (writeDocs) {
    insertIntoDocs(md);
    say('written into docs/benchmarks.md');
  }
  return result;
}

function replicasText(n) {
  return n === 1 ? 'one ingest process' : `${n} ingest replicas (processes; requests round robin over them, as behind the Helm chart's Service, which runs 2 by default)`;
}

function commandLine() {
  const args = process.argv.slice(2).map((a) => (/[^\w@%+=:,./-]/.test(a) ? `'${a.replace(/'/g, "'\\''")}'` : a));
  const offset = profileName === 'test' && process.env.AGENTMON_TEST_PORT_OFFSET ? `AGENTMON_TEST_PORT_OFFSET=${process.env.AGENTMON_TEST_PORT_OFFSET} ` : '';
  return `${offset}node bench/ingest.mjs${args.length ? ` ${args.join(' ')}` : ''}`;
}

const fmtMs = (v) => (v === null || v === undefined ? '–' : `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`);
const fmtRate = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');
const fmtInt = (v) => Math.round(v).toLocaleString('en-US');
const fmtLoad = (l) => l.map((x) => x.toFixed(2)).join(' / ');
const mib = (b) => `${Math.round(b / 2 ** 20)}`;
const yes = (b) => (b ? '**yes**' : '**no**');

function markdown(r) {
  const s = r.steady;
  const L = s.latencyMs;
  // an error in the lead-in counts as much as one in the measured window
  const steadyErrors = s.failed + (s.leadIn?.failed ?? 0);
  const steadyOk = steadyErrors === 0 && L.p95 !== null && L.p95 <= 25;
  const ratioOk = r.ratio >= 0.6;
  const lost = r.peak.lost + r.steadyStored.lost;
  const lostOk = lost === 0;
  // other work on the machine: what the sampled processes leave of the machine's CPU, per phase
  const ownCpu = (u) => Object.values(u.processes).reduce((a, p) => a + p.cpuMean, 0);
  // the measured phases (the idle phase follows the build, whose tail may still run)
  const others = [r.steady, r.direct, r.peak].filter((x) => x?.usage).map((x) => Math.max(0, x.usage.machine.cpuMean - ownCpu(x.usage)));
  const othersMax = Math.max(0, ...others);
  // the load average at start still counts the build; what other processes took during the phases is the measure
  const busy = othersMax > 10;
  const out = [];
  const when = r.startedAt.slice(0, 16).replace('T', ' ');
  out.push(`#### ${when} UTC${opt.label ? ` — ${opt.label}` : ''}`);
  out.push('');
  out.push(
    `- Machine: ${r.machine.nproc} × ${r.machine.model}, ${r.machine.memGiB.toFixed(1)} GiB memory; Node ${r.machine.node}, InfluxDB ${r.machine.influx}, NATS ${r.machine.nats}.`,
  );
  out.push(
    `- Load average (1/5/15 min) at start ${fmtLoad(r.loadAtStart)}, at end ${fmtLoad(r.loadAtEnd)}; processes outside the benchmark used up to ${othersMax.toFixed(0)}% CPU during a measured phase (200% = the machine). ${r.cfg.compete ? `**On purpose: a competing process (\`--compete ${r.cfg.compete.busyMs}:${r.cfg.compete.idleMs}\`, bench/lib/compete.mjs: ${r.cfg.compete.busyMs} ms spinning, ${r.cfg.compete.idleMs} ms asleep, over and over) ran for the whole run, counted among those processes, so the stack had less than the two cores.**` : busy ? '**Other work shared the machine, so the latency and throughput figures are pessimistic; a run on a quiet machine is still to be made.**' : 'The machine was otherwise quiet.'} CPU of every process during each phase is in the last table.`,
  );
  if (r.cpuQuota) {
    const t = r.cpuQuota.throttling;
    out.push(
      `- **On purpose: the benchmark and the stack it started ran in a cgroup limited to ${r.cpuQuota.cores} cores' worth of CPU time** (\`--cpu-quota ${r.cpuQuota.cores}\`, bench/lib/cpu-quota.mjs: a quota per ${r.cpuQuota.periodUs / 1000} ms period${r.cpuQuota.burst ? ', bursts of one quota allowed' : ''}), standing in for a slower machine; the machine's PostgreSQL was outside it. The group was stopped for the rest of its period in ${t.throttled.toLocaleString('en')} of ${t.periods.toLocaleString('en')} periods, ${(t.throttledMs / 1000).toFixed(1)} s in all (summed over the cores' run queues).`,
    );
  }
  out.push(`- Command: \`${r.command}\` at commit \`${r.machine.commit}\`${r.machine.dirtyFiles ? ` with ${r.machine.dirtyFiles} files changed in the working tree` : ''}.`);
  out.push(
    `- Ran: auth, registry, ingest, alerting, notification and gateway from their built \`dist\` with production defaults (LOG_LEVEL info); NATS with JetStream, Redis and InfluxDB of the \`${r.profile}\` profile; the machine's PostgreSQL. The registry and alerting consume the telemetry stream as in production. Load generator: this process, in a worker thread.`,
  );
  out.push('');
  out.push('| target | result | met |');
  out.push('|---|---|---|');
  out.push(
    `| steady: p95 ≤ 25 ms with no errors | p95 ${fmtMs(L.p95)}, ${steadyErrors} errors in ${fmtInt(s.requests + (s.leadIn?.requests ?? 0))} requests${s.leadIn ? ` (the ${fmtInt(s.leadIn.requests)} of the lead-in included)` : ''} | ${yes(steadyOk)} |`,
  );
  out.push(`| peak end-to-end ≥ 0.6 × direct InfluxDB | ${fmtRate(r.peak.endToEndPointsPerS)} / ${fmtRate(r.direct.endToEndPointsPerS)} points/s = **${r.ratio.toFixed(2)}** | ${yes(ratioOk)} |`);
  out.push(`| zero points lost | ${lost} lost (steady ${r.steadyStored.lost} of ${fmtInt(r.steadyStored.expected)}, peak ${r.peak.lost} of ${fmtInt(r.peak.expected)}) | ${yes(lostOk)} |`);
  out.push('');
  out.push(
    `**Steady**: ${fmtInt(r.cfg.agents)} agents, ${fmtInt(r.cfg.rate)} requests/s for ${r.cfg.durationS} s after a ${r.cfg.warmupS} s warm-up${r.warmup?.settled ? ` and a pause of ${r.warmup.settled.pauseS.toFixed(1)} s until its registrations were written and their events consumed (every stream's consumers idle, then the machine within 30 points of its idle CPU for 2 s, at most 45 s in all${r.cfg.pauseS ? `; and at least ${r.cfg.pauseS} s, \`--pause ${r.cfg.pauseS}\`` : ''})` : ''}${r.cfg.leadInS > 0 ? `, then ${r.cfg.leadInS} s of the same load as a lead-in, reported apart (new connections, the generator's and the stack's caches warming again after the pause)` : ''}; open-loop schedule (latency from the time each request was due), up to ${r.cfg.connections} keep-alive connections; each request one agent's JSON batch of 2 points (\`agent_metrics\`, \`performance_metrics\`) to \`POST /api/v2/ingest\` of ${replicasText(r.cfg.ingestReplicas ?? 1)}. The agents share ${r.cfg.keys} API keys (ingest's per-key limit applies); the per-address limit is lifted (\`INGEST_MAX_PER_IP=0\`) because every simulated agent connects from 127.0.0.1.`,
  );
  out.push('');
  out.push('| phase | requests | 202 | errors | p50 | p90 | p95 | p99 | p99.9 | max | generator lag p99 |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [name, x] of [['warm-up', r.warmup], ['steady lead-in (not judged)', s.leadIn], ['steady', s]]) {
    if (!x) continue;
    const l = x.latencyMs;
    const errs = Object.entries(x.errors).map(([k, v]) => `${v} × ${k}`).join(', ');
    out.push(`| ${name} | ${fmtInt(x.requests)} | ${fmtInt(x.ok)} | ${x.failed}${errs ? ` (${errs})` : ''} | ${fmtMs(l.p50)} | ${fmtMs(l.p90)} | ${fmtMs(l.p95)} | ${fmtMs(l.p99)} | ${fmtMs(l.p999)} | ${fmtMs(l.max)} | ${fmtMs(x.generatorLagMs.p99)} |`);
  }
  if (r.downsamplingDuringSteady !== undefined) {
    out.push('');
    out.push(
      r.downsamplingDuringSteady > 0
        ? `A 1-minute downsampling run of ingest (every 5 minutes by default, over every agent) shared the steady phase or the drain after it (${r.downsamplingDuringSteady} run${r.downsamplingDuringSteady > 1 ? 's' : ''}).`
        : 'No 1-minute downsampling run of ingest (every 5 minutes by default) fell into the steady phase.',
    );
  }
  if (r.natsSteady) {
    const requests = r.steady.ok + r.steady.failed;
    const per = (n) => (n / requests).toFixed(2);
    const conns = Object.entries(r.natsSteady.byName)
      .filter(([, x]) => (x.in + x.out) / requests >= 0.05)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([n, x]) => `${n} ${per(x.in)} / ${per(x.out)}`);
    out.push('');
    out.push(
      `NATS messages per steady request (its monitoring counters over the measured window): the server took in ${per(r.natsSteady.in)} and sent ${per(r.natsSteady.out)}; by connection, sent to the server / received from it: ${conns.join(', ')}.`,
    );
  }
  const steadyDrain = Object.entries(r.drainAfterSteady ?? {}).filter(([k]) => k !== 'timedOut');
  if (steadyDrain.length) {
    out.push('');
    out.push(
      `After the last steady request the stream's consumers were idle again within: ${steadyDrain.map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}${r.drainAfterSteady.timedOut ? ` (still busy: ${r.drainAfterSteady.timedOut.join(', ')})` : ''}.`,
    );
  }
  out.push('');
  out.push(
    `**Peak**: ${fmtInt(r.cfg.batches)} line-protocol batches of ${fmtInt(r.cfg.batchPoints)} points (${fmtInt(r.peak.expected)} points, ${fmtInt(r.cfg.peakAgents)} agents — the first of the steady fleet, already registered —, 3 float fields, precision ms, ${(r.peak.bytes / 2 ** 20).toFixed(1)} MiB) over ${r.cfg.peakConnections} keep-alive connections (through ingest: spread over the ${(r.cfg.ingestReplicas ?? 1) === 1 ? 'one process' : `${r.cfg.ingestReplicas} replicas`}), each posting its next batch when the last was answered${r.cfg.directIntoIngestDb ? `; the direct writes go into ingest's own database, which holds what the steady phase wrote (as measurement \`${DIRECT_MEASUREMENT}\`, counted apart)` : '; the direct writes went into an empty database of their own'}. End to end = from the first request until a \`count()\` query in InfluxDB sees every point (${r.cfg.countAfterSending ? 'none while the batches are sent; then ' : ''}counted as soon as the direct writes were answered, or the ingest writer's consumer has nothing left, and every 5 s before that; ${r.direct.countQueries} / ${r.peak.countQueries} count queries, mean ${r.direct.countQueryMsMean.toFixed(0)} / ${r.peak.countQueryMsMean.toFixed(0)} ms).`,
  );
  out.push('');
  out.push('| path | accepted points/s | end-to-end points/s | time to all queryable | stored / sent | lost | batch latency p50 / p99 | 429/503 retries |');
  out.push('|---|---|---|---|---|---|---|---|');
  for (const [name, x] of [['InfluxDB `/write` directly (baseline)', r.direct], ['ingest `/api/v2/write` → JetStream → writer → InfluxDB', r.peak]]) {
    out.push(
      `| ${name} | ${fmtRate(x.acceptedPointsPerS)} | ${fmtRate(x.endToEndPointsPerS)} | ${x.endToEndS.toFixed(1)} s${x.complete ? '' : ' (incomplete)'} | ${fmtInt(x.stored)} / ${fmtInt(x.expected)} | ${x.lost} | ${fmtMs(x.batchMs.p50)} / ${fmtMs(x.batchMs.p99)} | ${x.retries}${x.failedBatches ? `, ${x.failedBatches} batches failed` : ''} |`,
    );
  }
  out.push('');
  out.push(`Ratio ingest end-to-end / direct: **${r.ratio.toFixed(2)}** (target ≥ 0.6).`);
  const drained = Object.entries(r.drainAfterPeak ?? {}).filter(([k]) => k !== 'timedOut' && !k.startsWith('ingest-influx-'));
  if (drained.length) {
    out.push(
      `The stream's other consumers were idle again within ${drained.map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')} after every point was queryable${r.drainAfterPeak.timedOut ? ` (still busy: ${r.drainAfterPeak.timedOut.join(', ')})` : ''}.`,
    );
  }
  if (r.direct.window && r.peak.window) out.push('', ...windowTable(r));
  if (r.direct.influx && r.peak.influx) out.push('', ...influxTable(r));
  out.push('');
  out.push('**CPU and memory per process** — CPU in % of one core (200% = the whole 2-core machine), mean over the phase (highest 1-s sample); memory = resident set, mean / highest MiB.');
  out.push('');
  const phases = [['idle', r.idle.usage], ['steady', s.usage], ['direct baseline', r.direct.usage], ['peak through ingest', r.peak.usage]];
  out.push(`| process | ${phases.map(([n]) => `${n}: CPU | ${n}: RSS`).join(' | ')} |`);
  out.push(`|---|${phases.map(() => '---|---').join('|')}|`);
  const names = Object.keys(s.usage.processes);
  for (const n of names) {
    const label = n === 'postgres' ? 'postgres (this stack\'s backends)' : n;
    out.push(
      `| ${label} | ${phases
        .map(([, u]) => {
          const p = u.processes[n];
          return p ? `${p.cpuMean.toFixed(0)}% (${p.cpuMax.toFixed(0)}%) | ${mib(p.rssMean)} / ${mib(p.rssMax)}` : '– | –';
        })
        .join(' | ')} |`,
    );
  }
  const ours = (u) => Object.values(u.processes).reduce((a, p) => a + p.cpuMean, 0);
  out.push(`| **all of the above** | ${phases.map(([, u]) => `${ours(u).toFixed(0)}% | `).join(' | ')} |`);
  out.push(`| other processes on the machine | ${phases.map(([, u]) => `${Math.max(0, u.machine.cpuMean - ours(u)).toFixed(0)}% | `).join(' | ')} |`);
  out.push(`| whole machine | ${phases.map(([, u]) => `${u.machine.cpuMean.toFixed(0)}% (${u.machine.cpuMax.toFixed(0)}%) | `).join(' | ')} |`);
  // CPU-seconds of the stack (every sampled process but the load generator) above idle, per unit of work:
  // less disturbed by other work on the machine than latency or throughput
  const stackCpuS = (u) => Object.entries(u.processes).filter(([n]) => !n.startsWith('bench')).reduce((a, [n, p]) => a + ((p.cpuMean - (r.idle.usage.processes[n]?.cpuMean ?? 0)) / 100) * u.seconds, 0);
  const perRequestMs = (stackCpuS(s.usage) / s.requests) * 1000;
  const perPointDirectUs = (stackCpuS(r.direct.usage) / r.direct.expected) * 1e6;
  const perPointIngestUs = (stackCpuS(r.peak.usage) / r.peak.expected) * 1e6;
  out.push('');
  out.push(
    `CPU of the whole stack above idle (every process above but the load generator): **${perRequestMs.toFixed(2)} ms per steady request**; **${perPointIngestUs.toFixed(1)} µs per point** through ingest against ${perPointDirectUs.toFixed(1)} µs per point written directly.`,
  );
  const fails = r.ingestMetrics?.writeFailures?.filter((l) => !l.endsWith(' 0'));
  if (fails?.length) out.push('', `Writer failures reported by ingest: ${fails.map((l) => `\`${l}\``).join(', ')}.`);
  return out.join('\n');
}

/**
 * Where the CPU went from the first request until every point was queryable, per point sent: read
 * at those two moments, so the window is exact where the 1-s samples of the phase tables are not
 * (a peak lasts 1–3 s on a fast machine). A path that keeps the machine near 200% is bound by the
 * CPU it spends per point; one well below it waits on something.
 */
function windowTable(r) {
  const paths = [['directly', r.direct], ['through ingest', r.peak]];
  const main = ['ingest', 'influxdb', 'nats'];
  const others = (w) => Object.entries(w.processes).filter(([n]) => !main.includes(n) && !n.startsWith('bench'));
  const us = (ms, x) => ((ms / x.expected) * 1000).toFixed(1);
  const out = [
    '**CPU from the first request until every point was queryable** — read at those two moments; µs of CPU per point sent (the load generator apart).',
    '',
    '| path | window | whole machine | ingest | InfluxDB | NATS | the other services, Redis, PostgreSQL | stack in all | load generator |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [name, x] of paths) {
    const w = x.window;
    const p = (n) => w.processes[n]?.cpuMs ?? 0;
    const rest = others(w).reduce((a, [, v]) => a + v.cpuMs, 0);
    const stackMs = main.reduce((a, n) => a + p(n), 0) + rest;
    const bench = Object.entries(w.processes).filter(([n]) => n.startsWith('bench')).reduce((a, [, v]) => a + v.cpuMs, 0);
    out.push(
      `| ${name} | ${w.seconds.toFixed(2)} s | ${w.machineCpuPercent.toFixed(0)}% | ${us(p('ingest'), x)} | ${us(p('influxdb'), x)} | ${us(p('nats'), x)} | ${us(rest, x)} | **${us(stackMs, x)}** | ${us(bench, x)} |`,
    );
  }
  return out;
}

const MARKER = '<!-- bench/ingest.mjs inserts each new run below this line, newest first -->';

function insertIntoDocs(md) {
  const file = path.join(ROOT, 'docs', 'benchmarks.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmarks\n\n${MARKER}\n`;
  if (!text.includes(MARKER)) throw new Error(`docs/benchmarks.md has no line ${MARKER}`);
  writeFileSync(file, text.replace(MARKER, `${MARKER}\n\n${md}\n`));
}

async function cleanUp() {
  competitor?.kill();
  competitor = undefined;
  await diagNc?.close().catch(() => undefined);
  diagNc = undefined;
  await stack?.stop().catch(() => undefined);
  stack = undefined;
  if (startedInfra.length) stopInfra(profileName, startedInfra.filter((w) => w !== 'postgres'));
  startedInfra = [];
}

if (opt['from-json']) {
  // re-renders a run's Markdown from its raw results (and writes it into the docs unless --no-write)
  const r = JSON.parse(readFileSync(opt['from-json'], 'utf8'));
  opt.label ??= r.label;
  const md = markdown(r);
  process.stdout.write(`${md}\n`);
  if (writeDocs) insertIntoDocs(md);
  process.exit(0);
}

let exitCode = 0;
process.once('SIGINT', () => {
  say('interrupted; stopping what the benchmark started');
  void cleanUp().then(() => process.exit(130));
});
try {
  await main();
} catch (err) {
  process.stderr.write(`\n\x1b[31m[bench] ${err.stack ?? err.message}\x1b[0m\n`);
  exitCode = 1;
}
await cleanUp();
process.exit(exitCode);
