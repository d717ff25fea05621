// Loaded into a service with NODE_OPTIONS=--import=<this file> (e.g. `node bench/ingest.mjs --no-build
// --no-write --env "ingest:NODE_OPTIONS=--import=$PWD/bench/lib/gc-trace.preload.mjs"`): V8's own
// trace of every garbage collection, and of when and why incremental marking starts, on the
// service's stdout (its log, .agentmon/bench/logs/<service>.log). --trace-gc is not allowed in
// NODE_OPTIONS; set at run time it is.
import v8 from 'node:v8';

v8.setFlagsFromString('--trace-gc');
v8.setFlagsFromString('--trace-incremental-marking');
