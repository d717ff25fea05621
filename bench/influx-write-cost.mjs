#!/usr/bin/env node
// What InfluxDB itself spends per point on the peak batches of bench/ingest.mjs, written straight to
// it, by batch size and number of connections: its CPU (user + system from /proc) from the first
// write until 3 s after the last answer, so the cache snapshot and compaction the writes cause count
// too (the direct phase of bench/ingest.mjs stops counting when the points are queryable).
//
//   node scripts/lib/infra.mjs up test        # InfluxDB of the test profile (AGENTMON_TEST_PORT_OFFSET honoured)
//   node bench/influx-write-cost.mjs [--points 500000]
//
// Each case writes --points points (1,000 agents, 3 float fields, precision ms) into a fresh database,
// or into one that first gets what the steady phase of bench/ingest.mjs leaves (10,000 agents'
// agent_metrics and performance_metrics series, 4 points each): the state the writer of ingest meets.
// The first two cases alternate and repeat, for the difference between the two.
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { PROFILES } from '../scripts/lib/infra.mjs';
import { peakBatch, steadySeries } from './lib/data.mjs';
import { influxQuery, influxdCpuMs } from './lib/influx.mjs';

const { values } = parseArgs({ options: { points: { type: 'string', default: '500000' } } });
const POINTS = Number(values.points);
const profile = PROFILES.test;
const PORT = profile.influx.port;
const DB = 'agentmon_bench_write_cost';
const cpuMs = influxdCpuMs(profile.dir);
const query = (q) => influxQuery(`http://127.0.0.1:${PORT}`, q);

const agent = new http.Agent({ keepAlive: true });
function post(body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: PORT, path: `/write?db=${DB}&rp=raw&precision=ms`, method: 'POST', agent, headers: { 'content-length': body.length } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`write answered ${res.statusCode}: ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function run(batchPoints, connections, seeded) {
  await query(`DROP DATABASE "${DB}"`);
  await query(`CREATE DATABASE "${DB}" WITH DURATION 90d NAME "raw"`);
  const t0 = Date.now() - 120_000;
  if (seeded) {
    const lines = steadySeries(10_000, 4, t0 - 60_000);
    for (let i = 0; i < lines.length; i += 10_000) await post(Buffer.from(lines.slice(i, i + 10_000).join('\n')));
  }
  const batches = Array.from({ length: Math.round(POINTS / batchPoints) }, (_, b) => Buffer.from(peakBatch(b, batchPoints, 1000, t0)));
  await new Promise((r) => setTimeout(r, 2000));
  const c0 = cpuMs();
  const w0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: connections }, async () => { while (next < batches.length) await post(batches[next++]); }));
  const wallMs = performance.now() - w0;
  await new Promise((r) => setTimeout(r, 3000));
  const cpu = cpuMs() - c0;
  return { batchPoints, connections, seeded, wallMs, rate: POINTS / (wallMs / 1000), usPerPoint: (cpu * 1000) / POINTS };
}

const rows = [];
const cases = [[5000, 4, false], [5000, 4, true], [5000, 4, false], [5000, 4, true], [10000, 4, false], [20000, 4, false], [5000, 8, false], [5000, 2, false]];
for (const [batchPoints, connections, seeded] of cases) rows.push(await run(batchPoints, connections, seeded));
await query(`DROP DATABASE "${DB}"`);
process.stdout.write(
  [
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${POINTS} points per case`,
    '',
    '| database | points per write | connections | written in s | points/s | InfluxDB CPU µs per point (incl. 3 s after) |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.seeded ? "the steady phase's 20,000 series" : 'empty'} | ${r.batchPoints} | ${r.connections} | ${(r.wallMs / 1000).toFixed(2)} | ${Math.round(r.rate).toLocaleString('en-US')} | ${r.usPerPoint.toFixed(2)} |`),
    '',
  ].join('\n'),
);
