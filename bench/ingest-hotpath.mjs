#!/usr/bin/env node
// CPU cost of each step of the ingest path, per point, measured on the built code (services/ingest/
// dist) without any server: what one core can do at most per step. CPU time (process.cpuUsage), not
// wall time, so a busy machine disturbs it less than the end-to-end benchmark (bench/ingest.mjs).
//
//   node bench/ingest-hotpath.mjs [--points 5000] [--rounds 40]
//
// Steps: accept a line-protocol batch (parse + checks + JSON of each point), accept a JSON batch of
// one agent (2 points, as in the steady phase), cut a batch into stream messages, and the writer's
// work for one stream message (JSON.parse, contract check, line-protocol encoding).
import { parseArgs } from 'node:util';
import { Ajv } from 'ajv';
import { z } from 'zod';
import { TelemetryBatchSchema } from '@agentmon/contracts';
import { decodeJson } from '@agentmon/messaging';
import { parseLineProtocol } from '../services/ingest/dist/ingest/line-protocol.parser.js';
import { JsonBatchValidator } from '../services/ingest/dist/ingest/json-batch.validator.js';
import { buildChunks } from '../services/ingest/dist/ingest/batch-chunks.js';
import { pointLimits } from '../services/ingest/dist/ingest/point-rules.js';
import { encodePoint } from '../services/ingest/dist/influx/line-protocol.js';
import { peakBatch } from './lib/data.mjs';

const { values } = parseArgs({ options: { points: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '40' } } });
const points = Number(values.points);
const rounds = Number(values.rounds);
const MAX_MESSAGE = 1024 * 1024 - 4096;
const limits = () => pointLimits(Date.now(), 90 * 86_400_000, MAX_MESSAGE - 128 * 1024);

function measure(name, perRound, fn) {
  for (let i = 0; i < Math.max(3, rounds / 10); i++) fn(i); // warm the JIT
  const before = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < rounds; i++) fn(i);
  const cpu = process.cpuUsage(before);
  const cpuUs = (cpu.user + cpu.system) / rounds;
  const wallUs = ((performance.now() - t) * 1000) / rounds;
  console.log(
    `${name.padEnd(58)} ${(cpuUs / 1000).toFixed(2).padStart(8)} ms CPU per round  ${(cpuUs / perRound).toFixed(2).padStart(6)} µs/point  ${Math.round((perRound * 1e6) / cpuUs).toLocaleString('en-US').padStart(10)} points/s per core  (wall ${(wallUs / 1000).toFixed(2)} ms)`,
  );
}

const t0 = Date.now() - 60_000;
const bodies = Array.from({ length: 8 }, (_, b) => peakBatch(b, points, 1000, t0));
let accepted;
measure(`line protocol: parse + check ${points} lines`, points, (i) => {
  const out = parseLineProtocol(bodies[i % bodies.length], 'ms', limits(), 50_000);
  if (!out.ok) throw new Error(JSON.stringify(out.details.list.slice(0, 3)));
  accepted = out.batch;
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
measure(`JSON batch of one agent (2 points) × ${steadyRounds}: JSON.parse + check`, 2 * steadyRounds, () => {
  for (let j = 0; j < steadyRounds; j++) {
    const out = validator.check(JSON.parse(jsonBodies[j]), limits());
    if (!out.ok) throw new Error(JSON.stringify(out.details.list.slice(0, 3)));
  }
});

let chunks;
measure(`stream messages of the ${points}-point batch (buildChunks)`, points, () => {
  chunks = buildChunks({ batchId: 'b', receivedAt: Date.now(), source: 'line', agents: accepted.agents }, accepted.encoded, MAX_MESSAGE);
});
console.log(`  (${chunks.length} message${chunks.length === 1 ? '' : 's'}, ${chunks.reduce((n, c) => n + c.length, 0).toLocaleString('en-US')} bytes)`);

const ajv = new Ajv({ strict: false });
const validate = ajv.compile(z.toJSONSchema(TelemetryBatchSchema, { target: 'draft-07', io: 'input' }));
let decoded;
measure('writer: JSON.parse of the stream messages', points, () => {
  decoded = chunks.map((c) => decodeJson(c));
});
measure('writer: contract check (compiled TelemetryBatchSchema)', points, () => {
  for (const d of decoded) if (!validate(d)) throw new Error(JSON.stringify(validate.errors?.slice(0, 2)));
});
let text;
measure('writer: line-protocol encoding + join', points, () => {
  const lines = [];
  for (const d of decoded) for (const p of d.points) lines.push(encodePoint(p));
  text = lines.join('\n');
});
console.log(`  (${text.length.toLocaleString('en-US')} bytes written to InfluxDB per ${points} points)`);
