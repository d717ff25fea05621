// A competing process for `node bench/ingest.mjs --compete BUSY:IDLE`: spins BUSY ms, then sleeps
// IDLE ms, over and over, on whichever core the scheduler gives it (3:1 took 71–74 % of a core on
// the tenth machine of docs/benchmarks.md). It stands in for what a slower or shared machine lacks:
// the stack then has less CPU than both cores, so the effect of what it spends shows in latency.
const [busyMs, idleMs] = process.argv.slice(2).map(Number);
if (!(busyMs > 0) || !(idleMs >= 0)) throw new Error('usage: compete.mjs BUSY_MS IDLE_MS');
const cell = new Int32Array(new SharedArrayBuffer(4));
for (;;) {
  const until = performance.now() + busyMs;
  while (performance.now() < until);
  if (idleMs > 0) Atomics.wait(cell, 0, 0, idleMs);
}
