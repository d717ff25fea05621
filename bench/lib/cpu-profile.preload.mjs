// Loaded into a service with NODE_OPTIONS=--import=<this file> by `bench/ingest.mjs --cpu-prof`:
// records a V8 CPU profile per benchmark phase. The bench writes the name of the current phase into
// $AGENTMON_CPU_PROF_DIR/phase; when it changes, the profile of the previous phase is saved as
// <service>-<phase>.cpuprofile and a new one starts. (`node --cpu-prof` writes only on a normal
// exit, and a NestJS service re-raises SIGTERM to stop; signals are taken by its shutdown hooks.)
import { Session } from 'node:inspector';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.env.AGENTMON_CPU_PROF_DIR;
const name = process.env.AGENTMON_CPU_PROF_NAME ?? `pid${process.pid}`;

if (dir) {
  const session = new Session();
  session.connect();
  const post = (method, params = {}) => new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  let current = null;
  let busy = false;
  const phaseNow = () => {
    try {
      return readFileSync(path.join(dir, 'phase'), 'utf8').trim() || null;
    } catch {
      return null;
    }
  };
  const check = async () => {
    if (busy) return;
    busy = true;
    try {
      const phase = phaseNow();
      if (phase === current) return;
      if (current !== null) {
        const { profile } = await post('Profiler.stop');
        writeFileSync(path.join(dir, `${name}-${current}.cpuprofile`), JSON.stringify(profile));
      }
      current = phase;
      if (phase !== null && phase !== 'end') {
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval: 1000 });
        await post('Profiler.start');
      }
    } finally {
      busy = false;
    }
  };
  setInterval(() => void check().catch(() => undefined), 200).unref();
}
