// Loaded into a service with NODE_OPTIONS=--import=<this file> (e.g. `node bench/ingest.mjs --no-write
// --env "ingest:NODE_OPTIONS=--import=$PWD/bench/lib/loop-stalls.preload.mjs"`): writes to stderr (the
// service's log) every event-loop turn that took over 120 ms, measured by a 50 ms timer, and every
// garbage collection over 15 ms, with their times, to line them up with a benchmark's per-second
// latencies. (`--trace-gc` is not allowed in NODE_OPTIONS.)
import { PerformanceObserver, performance } from 'node:perf_hooks';

const at = (ms) => new Date(performance.timeOrigin + ms).toISOString();
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.duration > 15) process.stderr.write(`GC ${at(e.startTime)} kind=${e.detail?.kind} ${e.duration.toFixed(1)} ms\n`);
}).observe({ entryTypes: ['gc'] });

let last = performance.now();
setInterval(() => {
  const now = performance.now();
  if (now - last > 120) process.stderr.write(`STALL ${at(now)} ${(now - last - 50).toFixed(0)} ms late\n`);
  last = now;
}, 50).unref();
