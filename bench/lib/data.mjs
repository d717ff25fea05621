// The points of the peak phase, identical for the direct-to-InfluxDB baseline and the run through
// ingest. Point k (over all batches) belongs to agent k % agents and has the time t0 + floor(k /
// agents) ms, so every (series, time) pair is unique and InfluxDB's count equals the points sent.
// The agents are the first of the steady phase's fleet (bench-agent-00000…), already registered: a
// peak is a burst from the fleet (a backlog flushed after an outage, a batch exporter), not a
// thousand agents pushing for the first time, which the warm-up phase measures.

export const PEAK_MEASUREMENT = 'bench_peak';

const value = (k, f) => Math.round(((Math.sin(k * 12.9898 + f * 78.233) + 1) / 2) * 10000) / 100;

/** Batch b: `points` lines of InfluxDB line protocol, precision ms, floats only (as ingest stores them). */
export function peakBatch(b, points, agents, t0) {
  const lines = new Array(points);
  for (let j = 0; j < points; j++) {
    const k = b * points + j;
    const a = k % agents;
    lines[j] =
      `${PEAK_MEASUREMENT},agent_id=bench-agent-${String(a).padStart(5, '0')},host=node-${a % 50},region=eu-west-1 ` +
      `cpu_usage=${value(k, 1)},memory_usage=${value(k, 2)},response_time=${value(k, 3) * 10} ${t0 + Math.floor(k / agents)}`;
  }
  return lines.join('\n');
}
