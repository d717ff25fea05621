#!/usr/bin/env node
// How long a process's main thread ran, and how long it was ready to run but waited for a core,
// second by second (the kernel's /proc/<pid>/task/<pid>/schedstat: nanoseconds on a CPU, nanoseconds
// waiting on a run queue, timeslices). On a 2-core machine with the whole stack on it, a service
// that needs a core while every core is taken waits, and its requests with it; this tells that wait
// apart from the service's own work. Run it beside a benchmark:
//
//   node bench/run-queue-wait.mjs services/ingest/dist/main.js 130 & node bench/ingest.mjs --no-build --no-write
//
// The first argument is a piece of the process's command line (the first process whose command line
// holds it, waited for until it appears); the second, how many seconds to sample. Prints one
// `run/wait/slices` triple per second (ms, ms, count) and the totals of the seconds in which it ran
// at least 100 ms.
import { readFileSync, readdirSync } from 'node:fs';

const [pattern, secondsArg = '120'] = process.argv.slice(2);
if (!pattern) {
  console.error('usage: node bench/run-queue-wait.mjs <command-line text> [seconds]');
  process.exit(2);
}
const seconds = Number(secondsArg);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function findPid() {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(pattern)) return d;
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

let pid = findPid();
while (!pid) {
  await sleep(250);
  pid = findPid();
}
const read = () => readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
console.log(`pid ${pid}: run/wait ms and timeslices per second`);
let prev = read();
const rows = [];
for (let i = 0; i < seconds; i++) {
  await sleep(1000);
  let cur;
  try {
    cur = read();
  } catch {
    break; // the process ended
  }
  rows.push({ run: (cur[0] - prev[0]) / 1e6, wait: (cur[1] - prev[1]) / 1e6, slices: cur[2] - prev[2] });
  prev = cur;
}
console.log(rows.map((r) => `${r.run.toFixed(0)}/${r.wait.toFixed(0)}/${r.slices}`).join(' '));
const busy = rows.filter((r) => r.run >= 100);
const sum = (k) => busy.reduce((n, r) => n + r[k], 0);
if (busy.length > 0) {
  console.log(
    `${busy.length} s with at least 100 ms of running: ran ${(sum('run') / busy.length).toFixed(0)} ms/s, waited for a core ${(sum('wait') / busy.length).toFixed(0)} ms/s (${((100 * sum('wait')) / (sum('run') + sum('wait'))).toFixed(0)} % of the time it wanted a core)`,
  );
}
