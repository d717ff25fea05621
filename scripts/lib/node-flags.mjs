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
 */
const NODE_FLAGS = {
  ingest: ['--max-semi-space-size=4'],
};

/** The Node.js options of one service (none for most). */
export function nodeFlagsOf(service) {
  return NODE_FLAGS[service] ?? [];
}
