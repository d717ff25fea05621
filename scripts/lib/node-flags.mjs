/**
 * Node.js options a service runs with wherever it runs: `npm start` and the benchmark
 * (scripts/lib/stack.mjs) and its container image (the Dockerfile's CMD; test/deploy/dockerfile.spec.ts
 * holds the two together). Command-line options, because V8 sizes its heap at start; NODE_OPTIONS
 * set by an operator (the Helm chart's extraEnv) still applies on top.
 *
 * ingest, `--max-semi-space-size=4` (MiB per semi-space; Node 20 lets the young generation grow to
 * 16): with the default, a peak of large line-protocol batches kept V8's incremental marking running
 * without a break — the old generation's headroom after each mark-compact (about 23 MiB over 48 of
 * live objects) was smaller than the young generation, so marking started again right after each
 * collection, about every 130 ms, and what was allocated while marking was kept to the next cycle.
 * With 4 or 8 MiB the same peak has 3–4 mark-compacts instead of 10 (docs/benchmarks.md, item 31).
 */
export const NODE_FLAGS = {
  ingest: ['--max-semi-space-size=4'],
};

/** The Node.js options of one service (none for most). */
export function nodeFlagsOf(service) {
  return NODE_FLAGS[service] ?? [];
}
