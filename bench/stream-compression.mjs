#!/usr/bin/env node
// What compressing the TELEMETRY stream's large messages of lines costs and saves (docs/benchmarks.md,
// item 32), on the built code and a NATS server of its own:
//
//   npx tsc -b libs/contracts/tsconfig.json
//   node bench/stream-compression.mjs [--messages 300] [--rounds 40]
//
// 1. CPU per line to compress and decompress a peak batch of bench/ingest.mjs (5,000 lines) with
//    ingest's compressLines / decompressLines (Brotli, quality 0), and zlib's deflate at level 1 for
//    comparison; the size after each.
// 2. What NATS itself spends (its CPU from /proc, user + system) storing --messages such batches in a
//    file-backed JetStream stream and delivering each to two durable consumers, as ingest's writer
//    and the alerting evaluator receive them, plain and then compressed; the plain batches also stored
//    only, with no consumer (what the deliveries add); and what the clients (one publisher with 4
//    publishes in flight, the consumers) spend in this process.
// It starts nats-server (Debian: apt-get install -y nats-server) on a free port with a store in a
// temporary folder, and removes both when done.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { compressLines, decompressLines } from '../libs/contracts/dist/telemetry-lines.js';
import { natsServerBinary, waitForPort } from '../scripts/lib/infra.mjs';
import { peakBatch } from './lib/data.mjs';
import { cpuMsOf } from './lib/procstat.mjs';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '300' }, rounds: { type: 'string', default: '40' } } });
const MESSAGES = Number(values.messages);
const ROUNDS = Number(values.rounds);
const LINES = 5000;

const t0 = Date.now() - 60_000;
const batches = Array.from({ length: 4 }, (_, b) => Buffer.from(peakBatch(b, LINES, 1000, t0)));

// ---------------------------------------------------------------- 1. CPU per line
const cpuUs = (fn) => {
  const before = process.cpuUsage();
  fn();
  const c = process.cpuUsage(before);
  return c.user + c.system;
};
function perLine(name, pack, unpack) {
  for (let i = 0; i < 8; i++) unpack(pack(batches[i % 4])); // warm up
  const packed = batches.map(pack);
  const pk = cpuUs(() => {
    for (let i = 0; i < ROUNDS; i++) pack(batches[i % 4]);
  });
  const up = cpuUs(() => {
    for (let i = 0; i < ROUNDS; i++) unpack(packed[i % 4]);
  });
  const per = (us) => (us / ROUNDS / LINES).toFixed(3);
  console.log(
    `${name.padEnd(34)} ${batches[0].length.toLocaleString('en-US')} → ${packed[0].length.toLocaleString('en-US')} bytes (${(batches[0].length / packed[0].length).toFixed(1)}×)  compress ${per(pk)} µs/line  decompress ${per(up)} µs/line`,
  );
}
console.log(`## CPU per line, a batch of ${LINES.toLocaleString('en-US')} lines (${ROUNDS} rounds)`);
perLine('ingest: Brotli, quality 0', compressLines, decompressLines);
perLine('zlib deflate, level 1', (b) => zlib.deflateSync(b, { level: 1 }), (b) => zlib.inflateSync(b));

// ---------------------------------------------------------------- 2. NATS
const NATS_SERVER = natsServerBinary();
if (!NATS_SERVER) throw new Error('nats-server is not installed (Debian: apt-get install -y nats-server)');
const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

async function natsCost(label, bodies, consumers = ['writer', 'alerting']) {
  const store = mkdtempSync(path.join(os.tmpdir(), 'agentmon-stream-compression-'));
  const port = await freePort();
  const server = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], { stdio: 'ignore' });
  try {
    await waitForPort(port, 'NATS');
    const nc = await connect({ servers: `127.0.0.1:${port}` });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'BENCH', subjects: ['bench.>'], storage: 'file', duplicate_window: 120e9, max_bytes: 8 * 2 ** 30 });
    const js = jetstream(nc);
    const consumed = [];
    for (const name of consumers) {
      await jsm.consumers.add('BENCH', { durable_name: name, ack_policy: AckPolicy.Explicit, filter_subject: 'bench.lines', max_ack_pending: 256 });
      const messages = await (await js.consumers.get('BENCH', name)).consume({ max_messages: 64 });
      consumed.push(
        (async () => {
          let n = 0;
          for await (const m of messages) {
            m.ack();
            if (++n === MESSAGES) break;
          }
        })(),
      );
    }
    await new Promise((r) => setTimeout(r, 300));
    const natsBefore = cpuMsOf(server.pid);
    const clientBefore = process.cpuUsage();
    const started = performance.now();
    let next = 0;
    await Promise.all(
      [0, 1, 2, 3].map(async () => {
        while (next < MESSAGES) {
          const k = next++;
          await js.publish('bench.lines', bodies[k % bodies.length], { msgID: `m${k}` });
        }
      }),
    );
    await Promise.all(consumed);
    const wall = performance.now() - started;
    const nats = cpuMsOf(server.pid) - natsBefore;
    const c = process.cpuUsage(clientBefore);
    const per = (ms) => ((ms * 1000) / (MESSAGES * LINES)).toFixed(2);
    console.log(
      `${label.padEnd(20)} ${bodies[0].length.toLocaleString('en-US').padStart(9)} bytes a message  NATS ${per(nats)} µs/line (${Math.round(nats)} ms)  clients ${per((c.user + c.system) / 1000)} µs/line  wall ${Math.round(wall)} ms`,
    );
    await nc.close();
  } finally {
    server.kill();
    await new Promise((r) => server.once('exit', r));
    rmSync(store, { recursive: true, force: true });
  }
}
console.log(`\n## NATS: ${MESSAGES} messages of ${LINES.toLocaleString('en-US')} lines, stored in a file stream, each delivered to 2 consumers (or none)`);
const packed = batches.map((b) => Buffer.from(compressLines(b)));
for (let r = 0; r < 2; r++) {
  await natsCost('plain', batches);
  await natsCost('compressed', packed);
  await natsCost('plain, stored only', batches, []);
}
console.log('\n(NATS and client CPU per line exclude compressing and decompressing: add part 1 for those.)');
console.log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString()}`);
