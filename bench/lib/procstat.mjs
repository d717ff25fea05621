// CPU and memory of processes and of the whole machine, read from /proc (Linux), sampled once a
// second. CPU is in percent of one core (200% = both cores of a 2-core machine).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {
  /* 100 on every common Linux */
}

/** utime + stime of a process in clock ticks, and its resident memory in bytes; null when gone. */
export function readProc(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces: count fields after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const sys = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    return { ticks, sys, rss: rss ? Number(rss[1]) * 1024 : 0 };
  } catch {
    return null;
  }
}

/** CPU (user + system) a process has used so far, in ms; NaN when it is gone. */
export function cpuMsOf(pid) {
  const p = readProc(pid);
  return p ? (p.ticks / ticksPerSecond) * 1000 : NaN;
}

/** busy and total jiffies of the whole machine (all cores) */
export function readMachine() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** pids whose command line matches `test` */
export function findPids(test) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cmd && test(cmd)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** CPU ticks (all, system) a group used between two readings, and its resident memory at the second. */
function used(a, b, name) {
  let ticks = 0;
  let sys = 0;
  let rss = 0;
  for (const [pid, r] of b.procs[name]) {
    const before = a.procs[name].get(pid);
    // a process that appeared since the first reading (a new PostgreSQL backend) started after it
    ticks += before ? r.ticks - before.ticks : r.ticks;
    sys += before ? r.sys - before.sys : r.sys;
    rss += r.rss;
  }
  return { ticks, sys, rss };
}

/**
 * The processes of a stack started by scripts/lib/stack.mjs on an infra profile, by name: each
 * service (its replicas, ingest-2 and on, count as the service), NATS, Redis, InfluxDB and the
 * PostgreSQL backends serving the profile's databases (the server itself is shared). A group is a
 * list of pids, or a function returning it for a changing family (PostgreSQL's backends).
 */
export function stackProcessGroups(stack, profile) {
  const groups = {};
  for (const { name, child } of stack.children) (groups[name.replace(/-\d+$/, '')] ??= []).push(child.pid);
  const pidOf = (daemon, match) => {
    const file = path.join(profile.dir, `${daemon}.pid`);
    if (existsSync(file)) {
      const pid = Number(readFileSync(file, 'utf8'));
      if (existsSync(`/proc/${pid}`)) return [pid];
    }
    return findPids(match);
  };
  groups.nats = pidOf('nats', (c) => c.includes('nats-server') && c.includes(`-p ${profile.nats.port}`));
  groups.redis = pidOf('redis', (c) => c.includes('redis-server') && c.includes(`:${profile.redis.port}`));
  groups.influxdb = pidOf('influxdb', (c) => c.includes('influxd') && c.includes(path.join(profile.dir, 'influxdb.conf')));
  groups.postgres = () => findPids((c) => c.startsWith('postgres:') && c.includes(profile.postgres.dbPrefix));
  return groups;
}

/**
 * Samples named groups of processes (a group is a list of pids, or a function returning it, for
 * process families such as PostgreSQL's backends) until stop(); returns per group the mean and
 * highest one-second CPU and the mean and highest resident memory, and the machine's total.
 */
export function startSampler(groups, intervalMs = 1000) {
  const cores = readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => l.startsWith('processor')).length || 1;
  const resolve = (g) => (typeof g === 'function' ? g() : g);
  const snapshot = () => {
    const procs = {};
    for (const [name, g] of Object.entries(groups)) {
      const per = new Map();
      for (const pid of resolve(g)) {
        const r = readProc(pid);
        if (r) per.set(pid, r);
      }
      procs[name] = per;
    }
    return { at: performance.now(), machine: readMachine(), procs };
  };
  const acc = Object.fromEntries(Object.keys(groups).map((n) => [n, { ticks: 0, sys: 0, cpu: [], rss: [] }]));
  const machine = [];
  const first = snapshot();
  let prev = first;
  const take = () => {
    const cur = snapshot();
    const dt = (cur.at - prev.at) / 1000;
    if (dt <= 0) return;
    for (const name of Object.keys(groups)) {
      const { ticks, sys, rss } = used(prev, cur, name);
      acc[name].ticks += ticks;
      acc[name].sys += sys;
      acc[name].cpu.push((ticks / ticksPerSecond / dt) * 100);
      acc[name].rss.push(rss);
    }
    const dm = cur.machine.total - prev.machine.total;
    machine.push(dm > 0 ? ((cur.machine.busy - prev.machine.busy) / dm) * 100 * cores : 0);
    prev = cur;
  };
  const timer = setInterval(take, intervalMs);
  return {
    /** a reading of every group and of the machine now, for `between` */
    mark: snapshot,
    /**
     * CPU of every group and of the machine from one mark to another (a window shorter than the
     * sampling interval, such as a peak phase's time to all queryable): % of one core and CPU ms.
     */
    between(a, b) {
      const seconds = (b.at - a.at) / 1000;
      const processes = {};
      for (const name of Object.keys(groups)) {
        const cpuMs = (used(a, b, name).ticks / ticksPerSecond) * 1000;
        processes[name] = { cpuMs, cpuPercent: seconds > 0 ? cpuMs / 10 / seconds : 0 };
      }
      const dm = b.machine.total - a.machine.total;
      return { seconds, processes, machineCpuPercent: dm > 0 ? ((b.machine.busy - a.machine.busy) / dm) * 100 * cores : 0 };
    },
    stop() {
      clearInterval(timer);
      take();
      const last = prev;
      const seconds = (last.at - first.at) / 1000;
      const out = { seconds, cores, processes: {}, machine: null };
      for (const name of Object.keys(groups)) {
        const { ticks, sys, cpu, rss } = acc[name];
        out.processes[name] = {
          pids: [...last.procs[name].keys()],
          cpuMean: seconds > 0 ? (ticks / ticksPerSecond / seconds) * 100 : 0,
          cpuMax: cpu.length ? Math.max(...cpu) : 0,
          /** the part spent in the kernel (system calls), same unit */
          cpuSysMean: seconds > 0 ? (sys / ticksPerSecond / seconds) * 100 : 0,
          rssMean: rss.length ? rss.reduce((a, b) => a + b, 0) / rss.length : 0,
          rssMax: rss.length ? Math.max(...rss) : 0,
          /** every sample's CPU (% of one core), in order: to line up with the load's per-second figures */
          cpuSamples: cpu.map((c) => Math.round(c)),
        };
      }
      const dm = last.machine.total - first.machine.total;
      out.machine = {
        cpuMean: dm > 0 ? ((last.machine.busy - first.machine.busy) / dm) * 100 * cores : 0,
        cpuMax: machine.length ? Math.max(...machine) : 0,
        cpuSamples: machine.map((c) => Math.round(c)),
      };
      return out;
    },
  };
}
