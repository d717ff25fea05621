/**
 * Node.js options a service runs with wherever it runs: `npm start` and the benchmark
 * (scripts/lib/stack.mjs) and its container image (the Dockerfile's CMD; test/deploy/dockerfile.spec.ts
 * holds the two together). Command-line options, because V8 sizes its heap at start; NODE_OPTIONS
 * set by an operator (the Helm chart's extraEnv) still applies on top.
 *
 * ingest, `--max-semi-space-size=4` (MiB per semi-space; Node 20 lets the young generation grow to
 * 16): with the default, a peak of large line-protocol batches kept V8's incremental marking running
 * without a break — it started again "by task" right after each mark-compact, about every 130 ms,
 * with the old generation 23 MiB below its limit (V8's trace; that V8 starts early when that
 * headroom is smaller than the young generation is our reading of its heuristics). With 4 or 8 MiB
 * the same peak has 3–4 mark-compacts instead of 10 (docs/benchmarks.md, item 31).
 *
 * ingest, `--single-threaded-gc`: V8 collects on the main thread alone, without helper threads. On a
 * 2-core machine that the rest of the stack keeps busy, a parallel scavenge waited for helper
 * threads that had no core to run on: in a steady phase of 1,000 requests/s on the eighth machine
 * of docs/benchmarks.md, scavenges took 2.4–6.0 ms on average and up to 15–35 ms with V8's helper
 * threads, 2.1–2.3 ms and at most 5–9 ms without them (V8's own trace, item 36), and every such
 * pause holds every request in flight.
 */
const NODE_FLAGS = {
  ingest: ['--max-semi-space-size=4', '--single-threaded-gc'],
};

/** The Node.js options of one service (none for most). */
export function nodeFlagsOf(service) {
  return NODE_FLAGS[service] ?? [];
}
