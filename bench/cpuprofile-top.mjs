#!/usr/bin/env node
// Where a service spent its CPU: the top frames of a V8 .cpuprofile (from `bench/ingest.mjs
// --cpu-prof ingest` or `node --cpu-prof`), by self time, by package or folder, and by inclusive time.
//
//   node bench/cpuprofile-top.mjs .agentmon/bench/cpu/ingest-peak-ingest.cpuprofile [--top 25] [--match services/]
//        [--blocks 'latest-values|influx-writer|garbage']
//
// --match limits the inclusive table to frames whose file contains the text (e.g. services/ingest).
// --blocks adds how long the work of each matching frame (the outermost match on a stack, by name and
// file) held the thread at a time: consecutive samples under it count as one block, so a block is
// as long as the event loop could answer nothing else. Blocks are only as fine as the sampling
// interval (about 1 ms with `bench/ingest.mjs --cpu-prof`).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' }, match: { type: 'string' }, blocks: { type: 'string' } },
});
if (positionals.length === 0) {
  console.error('usage: node bench/cpuprofile-top.mjs <file.cpuprofile> [--top N] [--match text]');
  process.exit(2);
}
const top = Number(values.top);

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // time of each sample: the delta to the next sample
  const deltas = profile.timeDeltas;
  const totalUs = profile.endTime - profile.startTime;
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const us = deltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + us);
  }
  const key = (n) => {
    const f = n.callFrame;
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '';
    return `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
  };
  const bySelf = new Map();
  const byArea = new Map();
  const inclusive = new Map();
  for (const [id, us] of selfUs) {
    const n = nodes.get(id);
    bySelf.set(key(n), (bySelf.get(key(n)) ?? 0) + us);
    const a = area(n.callFrame);
    byArea.set(a, (byArea.get(a) ?? 0) + us);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(nodes.get(cur));
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const idle = [...bySelf].filter(([k]) => k.startsWith('(idle)')).reduce((s, [, v]) => s + v, 0);
  const busy = totalUs - idle;
  const pct = (us) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
  const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  console.log(`\n${file}\n  ${(totalUs / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (${((busy / totalUs) * 100).toFixed(0)}% of one core); percentages are of busy time\n`);
  console.log('  by package / folder (self time)');
  for (const [k, v] of [...byArea].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms(v)} ${pct(v)}  ${k}`);
  console.log('\n  top functions by self time');
  for (const [k, v] of [...bySelf].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms(v)} ${pct(v)}  ${k}`);
  console.log(`\n  top functions by inclusive time${values.match ? ` (files containing ${values.match})` : ''}`);
  for (const [k, v] of [...inclusive]
    .filter(([k]) => !k.startsWith('(') && (!values.match || k.includes(values.match)))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    console.log(`  ${ms(v)} ${pct(v)}  ${k}`);
  if (values.blocks) printBlocks(profile, nodes, parent, key, new RegExp(values.blocks), top);
}

/** Runs of consecutive samples under one job (the outermost frame matching `re`), by job. */
function printBlocks(profile, nodes, parent, key, re, top) {
  const jobOf = new Map();
  const job = (id) => {
    if (jobOf.has(id)) return jobOf.get(id);
    let found = null;
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) if (re.test(key(nodes.get(cur)))) found = key(nodes.get(cur));
    jobOf.set(id, found);
    return found;
  };
  const blocks = new Map();
  let current = null;
  let length = 0;
  const close = () => {
    if (!current) return;
    if (!blocks.has(current)) blocks.set(current, []);
    blocks.get(current).push(length / 1000);
  };
  for (let i = 0; i < profile.samples.length; i++) {
    const j = job(profile.samples[i]);
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (j === current) {
      length += us;
      continue;
    }
    close();
    current = j;
    length = us;
  }
  close();
  const q = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))].toFixed(1);
  console.log(`\n  blocks: how long each job held the thread at a time (ms)`);
  const rows = [...blocks].map(([k, l]) => [k, l.sort((a, b) => a - b), l.reduce((n, x) => n + x, 0)]).sort((a, b) => b[2] - a[2]);
  for (const [k, l, total] of rows.slice(0, top)) {
    console.log(`  ${(total.toFixed(0) + ' ms').padStart(10)} in ${String(l.length).padStart(5)} blocks: p50 ${q(l, 0.5)}, p90 ${q(l, 0.9)}, p99 ${q(l, 0.99)}, max ${l[l.length - 1].toFixed(1)}  ${k}`);
  }
}

function shortUrl(url) {
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + '/node_modules/'.length);
  const m = /\/((?:services|libs)\/.*)$/.exec(u);
  return m ? m[1] : u;
}

function area(f) {
  if (!f.url) return f.functionName || '(native)';
  if (f.url.startsWith('node:')) return `node:${f.url.slice(5).split('/')[0]}`;
  const u = f.url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const m = /\/((?:services|libs)\/[^/]+)\/(?:dist|src)\/(.*)$/.exec(u);
  if (m) return `${m[1]}/${m[2].split('/').slice(0, -1).join('/') || '.'}`;
  return u;
}
