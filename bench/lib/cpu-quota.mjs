// `node bench/ingest.mjs --cpu-quota CORES`: the benchmark and the stack it starts confined to CORES
// cores' worth of CPU time by a cgroup of the kernel's CPU bandwidth control (v2 `cpu.max`, or v1
// `cpu.cfs_quota_us`), so that a fast machine shows how the stack fares with less CPU, as on a slower
// one. An approximation: a slower machine runs each request longer, while a quota lets it run at full
// speed and then stops the whole group until the period (10 ms) ends; where the kernel allows a burst
// (`cpu.max.burst`, `cpu.cfs_burst_us`) a quota's worth of unused time is kept for one, which spares
// short peaks those stops. Needs root and a cgroup file system mounted read-write.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const PERIOD_US = 10_000;
const NAME = 'agentmon-bench';

/** The cgroup, created or reused, with its quota set; `join(pid)` moves a process (and its future children) into it. */
export function cpuQuota(cores) {
  if (!(cores > 0)) throw new Error('--cpu-quota must be a number of cores above 0 (e.g. 0.9)');
  const quotaUs = Math.round(cores * PERIOD_US);
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers') && !existsSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us');
  const dir = v2 ? path.join('/sys/fs/cgroup', NAME) : path.join('/sys/fs/cgroup/cpu', NAME);
  const write = (file, value) => writeFileSync(path.join(dir, file), String(value));
  try {
    mkdirSync(dir, { recursive: true });
    if (v2) {
      write('cpu.max', `${quotaUs} ${PERIOD_US}`);
    } else {
      write('cpu.cfs_period_us', PERIOD_US);
      // a burst may not exceed the quota: lowered first, raised after
      if (existsSync(path.join(dir, 'cpu.cfs_burst_us'))) write('cpu.cfs_burst_us', 0);
      write('cpu.cfs_quota_us', quotaUs);
    }
  } catch (err) {
    throw new Error(`--cpu-quota needs a writable cgroup file system (root): ${err.message}`, { cause: err });
  }
  let burst = false;
  try {
    const file = v2 ? 'cpu.max.burst' : 'cpu.cfs_burst_us';
    if (existsSync(path.join(dir, file))) {
      write(file, quotaUs);
      burst = true;
    }
  } catch {
    // a kernel without bursts: the quota alone
  }
  const stat = () => {
    const out = {};
    for (const line of readFileSync(path.join(dir, 'cpu.stat'), 'utf8').split('\n')) {
      const [k, v] = line.split(' ');
      if (k) out[k] = Number(v);
    }
    // v1 counts throttled time in ns, v2 in µs
    return { periods: out.nr_periods ?? 0, throttled: out.nr_throttled ?? 0, throttledMs: v2 ? (out.throttled_usec ?? 0) / 1000 : (out.throttled_time ?? 0) / 1e6 };
  };
  const start = stat();
  return {
    cores,
    periodUs: PERIOD_US,
    burst,
    cgroup: dir,
    join(pid) {
      writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
    },
    /** periods, periods in which the group was stopped, and the time it was stopped, since the quota was set */
    throttling() {
      const now = stat();
      return { periods: now.periods - start.periods, throttled: now.throttled - start.throttled, throttledMs: now.throttledMs - start.throttledMs };
    },
  };
}
