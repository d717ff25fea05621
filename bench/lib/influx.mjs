// InfluxDB for the benchmark scripts: InfluxQL over the v1 HTTP API, and the CPU its server has used.
import { cpuMsOf, findPids } from './procstat.mjs';

/** Runs InfluxQL (`db` for statements that need one); the results, or an error with InfluxDB's message. */
export async function influxQuery(baseUrl, q, db, timeoutMs = 30_000) {
  const body = new URLSearchParams({ q });
  if (db) body.set('db', db);
  const res = await fetch(`${baseUrl}/query`, { method: 'POST', body, signal: AbortSignal.timeout(timeoutMs) });
  const json = await res.json();
  const err = json.error ?? json.results?.find((r) => r.error)?.error;
  if (!res.ok || err) throw new Error(`InfluxDB: ${err ?? res.status} (${q.slice(0, 200)})`);
  return json.results;
}

/** A function giving the CPU ms (user + system) used so far by the influxd whose configuration lies in `dir` (a profile's folder). */
export function influxdCpuMs(dir) {
  const pid = findPids((cmd) => cmd.includes('influxd') && cmd.includes(dir))[0];
  if (!pid) throw new Error(`no influxd with its configuration in ${dir} runs (node scripts/lib/infra.mjs up test)`);
  return () => cpuMsOf(pid);
}
