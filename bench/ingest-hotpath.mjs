#!/usr/bin/env node
// CPU cost of each step of the ingest path, per point, measured on the built code (services/ingest/
// dist) without any server: what one core can do at most per step. CPU time (process.cpuUsage), not
// wall time, so a busy machine disturbs it less than the end-to-end benchmark (bench/ingest.mjs).
//
//   npx tsc -b services/ingest/tsconfig.build.json
//   node bench/ingest-hotpath.mjs [--points 5000] [--rounds 40]
//
// Steps: the first batches of the fast path in a fresh process (before the JIT), then accept a line-protocol batch on the fast path (check + the stream's normal form + the bytes
// of its stream messages), the same with nanosecond timestamps (every line rewritten), the latest
// values of the batch (decoded at once, or kept undecoded until sent), the slow path for comparison;
// accept a JSON batch of one agent (2 points, as in the steady phase) with its messages; and the
// writer's work for the batch (no decoding: a UTF-8 check, counting lines, joining messages).
import { isUtf8 } from 'node:buffer';
import { parseArgs } from 'node:util';
import { scanLineProtocol } from '../services/ingest/dist/ingest/line-protocol.fast.js';
import { parseLineProtocol } from '../services/ingest/dist/ingest/line-protocol.parser.js';
import { JsonBatchValidator } from '../services/ingest/dist/ingest/json-batch.validator.js';
import { batchMessages, cutAtNewlines, groupLines, joinPieces } from '../services/ingest/dist/ingest/batch-chunks.js';
import { pointLimits } from '../services/ingest/dist/ingest/point-rules.js';
import { countLines } from '../services/ingest/dist/influx/influx-writer.service.js';
import { PendingLatest } from '../services/ingest/dist/latest/pending-latest.js';
import { peakBatch } from './lib/data.mjs';

const { values } = parseArgs({ options: { points: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '40' } } });
const points = Number(values.points);
const rounds = Number(values.rounds);
const MAX_MESSAGE = 1024 * 1024 - 4096;
const limits = () => pointLimits(Date.now(), 90 * 86_400_000, MAX_MESSAGE);

/**
 * CPU per round of `fn`: the median of REPEATS runs of `rounds` rounds each (other work on a shared
 * machine, the JIT and the GC make single runs vary by half), with the lowest and highest.
 */
const REPEATS = 7;
function measure(name, perRound, fn) {
  for (let i = 0; i < Math.max(3, rounds / 4); i++) fn(i); // warm the JIT
  const cpuUs = [];
  let wallUs = 0;
  for (let r = 0; r < REPEATS; r++) {
    const before = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < rounds; i++) fn(i);
    const cpu = process.cpuUsage(before);
    cpuUs.push((cpu.user + cpu.system) / rounds);
    wallUs += ((performance.now() - t) * 1000) / rounds / REPEATS;
  }
  cpuUs.sort((a, b) => a - b);
  const median = cpuUs[REPEATS >> 1];
  const perPoint = (us) => (us / perRound).toFixed(2);
  console.log(
    `${name.padEnd(72)} ${(median / 1000).toFixed(2).padStart(7)} ms CPU per round  ${perPoint(median).padStart(6)} µs/point (${perPoint(cpuUs[0])}–${perPoint(cpuUs[REPEATS - 1])})  ${Math.round((perRound * 1e6) / median).toLocaleString('en-US').padStart(10)} points/s per core  (wall ${(wallUs / 1000).toFixed(2)} ms)`,
  );
}

/** What the accept path does with a batch the fast path took, from the body's bytes to the bytes handed to JetStream. */
function acceptFast(raw, precision) {
  const fast = scanLineProtocol(raw, precision, limits(), 50_000);
  if (fast === null) throw new Error('the fast path gave up on the benchmark batch');
  const lines = fast.lines;
  const header = { batchId: 'b', receivedAt: Date.now(), source: 'line', agents: fast.agents.map((id) => ({ id })) };
  return { fast, messages: batchMessages(header, lines.length <= MAX_MESSAGE ? [lines] : cutAtNewlines(lines, MAX_MESSAGE), MAX_MESSAGE) };
}

const t0 = Date.now() - 60_000;
const bodies = Array.from({ length: 8 }, (_, b) => peakBatch(b, points, 1000, t0));
const raws = bodies.map((b) => Buffer.from(b));
const nsBodies = bodies.map((b) => b.replace(/ (\d+)$/gm, ' $1654321'));
const nsRaws = nsBodies.map((b) => Buffer.from(b));

// First, while this process has not run the scanner yet: what a fresh ingest process pays for its
// first line-protocol batches, before V8 has optimized code for them (each batch measured alone).
const cold = [];
for (let i = 0; i < 10; i++) {
  const before = process.cpuUsage();
  acceptFast(raws[i % raws.length], 'ms');
  const cpu = process.cpuUsage(before);
  cold.push(((cpu.user + cpu.system) / points).toFixed(2));
}
console.log(`line protocol, fast path, the first 10 batches of a fresh process (µs/point each): ${cold.join(' ')}`);

let accepted;
measure(`line protocol, fast path: ${points} lines (ms) → stream message bytes`, points, (i) => {
  accepted = acceptFast(raws[i % raws.length], 'ms');
});
const bytes = accepted.messages.reduce((n, m) => n + m.data.length, 0);
console.log(`  (${accepted.messages.length} messages: lines and agents, ${bytes.toLocaleString('en-US')} bytes)`);
// before item 41 of docs/benchmarks.md the fast path read a string, so each body was decoded first
measure(`  (not done since item 41: the body decoded to a string, ${(raws[0].length / 1024).toFixed(0)} KiB)`, points, (i) => {
  raws[i % raws.length].toString('utf8');
});
measure(`line protocol, fast path: ${points} lines (ns, every line rewritten)`, points, (i) => {
  acceptFast(nsRaws[i % nsRaws.length], 'ns');
});

// Telegraf escapes spaces and commas in tag values: such bodies stay on the fast path
const escapedBodies = bodies.map((b) => b.replace(/region=eu-west-1/g, 'region=eu\\ west\\,1'));
const escapedRaws = escapedBodies.map((b) => Buffer.from(b));
measure(`line protocol, fast path: ${points} lines with escaped tag values (region=eu\\ west\\,1)`, points, (i) => {
  acceptFast(escapedRaws[i % escapedRaws.length], 'ms');
});

const latest = new PendingLatest();
measure(`latest values of the batch, decoded (newest line per agent and shape)`, points, () => {
  latest.observe(accepted.fast.newestPoints());
});
latest.take();
measure(`latest values of the batch, kept undecoded (what the accept path does)`, points, () => {
  latest.observeLines(accepted.fast.newestLines());
});
latest.take();
const perSend = 20;
measure(`… and decoded when sent: ${perSend} batches per send (100,000 points/s, a send a second)`, perSend * points, () => {
  for (let k = 0; k < perSend; k++) latest.observeLines(accepted.fast.newestLines());
  latest.take();
});

measure(`line protocol, slow path: parse + check + encode + messages`, points, (i) => {
  const out = parseLineProtocol(bodies[i % bodies.length], 'ms', limits(), 50_000);
  if (!out.ok) throw new Error(JSON.stringify(out.details.list.slice(0, 3)));
  groupLines(out.batch.encoded, MAX_MESSAGE);
});

const validator = new JsonBatchValidator(50_000);
const agentBody = (i) => ({
  agent: { id: `bench-agent-${i % 10000}`, name: `Bench agent ${i}`, type: 'llm-agent', version: '1.4.2', host: 'node-1', region: 'eu-west-1', tags: { env: 'bench', team: 'a' } },
  points: [
    { measurement: 'agent_metrics', fields: { cpu_usage: 45.2, memory_usage: 67.3 }, tags: { core: 'all' }, time: Date.now() },
    { measurement: 'performance_metrics', fields: { tasks_completed: 3, error_rate: 0.01, response_time: 120.5 }, time: Date.now() },
  ],
});
const jsonBodies = Array.from({ length: 1000 }, (_, i) => JSON.stringify(agentBody(i)));
const steadyRounds = 1000;
measure(`JSON batch of one agent (2 points) × ${steadyRounds}: JSON.parse + check + lines`, 2 * steadyRounds, () => {
  for (let j = 0; j < steadyRounds; j++) {
    const out = validator.check(JSON.parse(jsonBodies[j]), limits());
    if (!out.ok) throw new Error(JSON.stringify(out.details.list.slice(0, 3)));
    Buffer.from(out.batch.encoded.join('\n'));
  }
});
measure(`… and each request its own messages (no coalescing)`, 2 * steadyRounds, () => {
  for (let j = 0; j < steadyRounds; j++) {
    const out = validator.check(JSON.parse(jsonBodies[j]), limits());
    const lines = Buffer.from(out.batch.encoded.join('\n'));
    batchMessages({ batchId: 'b', receivedAt: Date.now(), source: 'json', agents: out.batch.agents }, [lines], MAX_MESSAGE);
  }
});
const parts = jsonBodies.slice(0, 50).map((b) => {
  const out = validator.check(JSON.parse(b), limits());
  return { lines: Buffer.from(out.batch.encoded.join('\n')), agents: out.batch.agents };
});
measure(`… or 50 coalesced requests sharing their messages (per point)`, 100, () => {
  batchMessages({ batchId: 'b', receivedAt: Date.now(), source: 'json', agents: parts.flatMap((p) => p.agents) }, joinPieces(parts.map((p) => p.lines), MAX_MESSAGE), MAX_MESSAGE);
});

const linesMessages = accepted.messages.filter((m) => m.subject === 'evt.ingest.telemetry.lines.v1').map((m) => m.data);
measure('writer: UTF-8 check, line count, one write body of the messages', points, () => {
  let n = 0;
  for (const m of linesMessages) {
    if (!isUtf8(m)) throw new Error('not UTF-8');
    n += countLines(m);
  }
  const body = linesMessages.length === 1 ? linesMessages[0] : Buffer.concat(linesMessages.flatMap((m, i) => (i === 0 ? [m] : [Buffer.from('\n'), m])));
  if (n !== points || body.length === 0) throw new Error(`counted ${n} lines`);
});
console.log(`  (${linesMessages.reduce((n, m) => n + m.length, 0).toLocaleString('en-US')} bytes written to InfluxDB per ${points} points)`);
