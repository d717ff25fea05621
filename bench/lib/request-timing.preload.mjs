// Loaded into a service with NODE_OPTIONS=--import=<this file> (e.g. `node bench/ingest.mjs --no-build
// --no-write --env "ingest:NODE_OPTIONS=--import=$PWD/bench/lib/request-timing.preload.mjs"`): every 5 s
// writes to stderr (the service's log, .agentmon/bench/logs/<service>.log) a line `REQT` with how long
// the HTTP requests of those seconds took inside the process (from Node's 'request' event, headers read,
// to the answer's 'finish'), the event loop's delay (monitorEventLoopDelay, 1 ms resolution) and the
// garbage collections. Set against the benchmark's own latencies (from the time each request was due),
// it tells the time spent inside the service from the time spent before it read the request and after
// it answered (docs/benchmarks.md, item 42).
import http from 'node:http';
import { PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';

const times = [];
let gc = { n: 0, ms: 0, max: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.n++;
    gc.ms += e.duration;
    gc.max = Math.max(gc.max, e.duration);
  }
}).observe({ entryTypes: ['gc'] });
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();

const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, req, res) {
  if (event === 'request') {
    const t = performance.now();
    res.once('finish', () => times.push(performance.now() - t));
  }
  return emit.apply(this, arguments);
};

const at = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const ms = (ns) => (ns / 1e6).toFixed(1);
setInterval(() => {
  const t = times.splice(0).sort((a, b) => a - b);
  if (t.length > 0) {
    process.stderr.write(
      `REQT ${new Date().toISOString()} n=${t.length} p50=${at(t, 0.5).toFixed(2)} p95=${at(t, 0.95).toFixed(2)} p99=${at(t, 0.99).toFixed(2)} max=${t[t.length - 1].toFixed(1)} ms` +
        ` | loop delay p50=${ms(delay.percentile(50))} p95=${ms(delay.percentile(95))} p99=${ms(delay.percentile(99))} max=${ms(delay.max)} ms` +
        ` | gc n=${gc.n} ${gc.ms.toFixed(0)} ms, longest ${gc.max.toFixed(1)} ms\n`,
    );
  }
  delay.reset();
  gc = { n: 0, ms: 0, max: 0 };
}, 5000).unref();
