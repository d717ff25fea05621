// The points of the peak phase, identical for the direct-to-InfluxDB baseline and the run through
// ingest. Point k (over all batches) belongs to agent k % agents and has the time t0 + floor(k /
// agents) ms, so every (series, time) pair is unique and InfluxDB's count equals the points sent.
// The agents are the first of the steady phase's fleet (bench-agent-00000…), already registered: a
// peak is a burst from the fleet (a backlog flushed after an outage, a batch exporter), not a
// thousand agents pushing for the first time, which the warm-up phase measures.

export const PEAK_MEASUREMENT = 'bench_peak';
/**
 * The direct baseline's points go to the same database as ingest's, under a name of their own (of
 * the same length, so the lines are as long): the two phases are counted apart, and InfluxDB meets
 * both with the same database behind them (see bench/influx-write-cost.mjs for why that matters).
 */
export const DIRECT_MEASUREMENT = 'bench_base';

/**
 * What the steady phase leaves in the database: 10,000 agents' `agent_metrics` and
 * `performance_metrics` series (20,000), with the tags ingest stores, `points` points each.
 */
export function steadySeries(agents, points, t0) {
  const lines = [];
  for (let a = 0; a < agents; a++) {
    const id = `bench-agent-${String(a).padStart(5, '0')}`;
    const tags = `agent_id=${id},env=bench,team=team-${a % 20}`;
    for (let k = 0; k < points; k++) {
      const t = t0 + k * 10_000;
      lines.push(`agent_metrics,${tags},core=all cpu_usage=${value(a, k)},memory_usage=${value(a, k + 1)} ${t}`);
      lines.push(`performance_metrics,${tags} tasks_completed=${k},error_rate=${value(a, k + 2) / 100},response_time=${value(a, k + 3) * 10} ${t}`);
    }
  }
  return lines;
}

const value = (k, f) => Math.round(((Math.sin(k * 12.9898 + f * 78.233) + 1) / 2) * 10000) / 100;

/** Batch b: `points` lines of InfluxDB line protocol, precision ms, floats only (as ingest stores them). */
export function peakBatch(b, points, agents, t0, measurement = PEAK_MEASUREMENT) {
  const lines = new Array(points);
  for (let j = 0; j < points; j++) {
    const k = b * points + j;
    const a = k % agents;
    lines[j] =
      `${measurement},agent_id=bench-agent-${String(a).padStart(5, '0')},host=node-${a % 50},region=eu-west-1 ` +
      `cpu_usage=${value(k, 1)},memory_usage=${value(k, 2)},response_time=${value(k, 3) * 10} ${t0 + Math.floor(k / agents)}`;
  }
  return lines.join('\n');
}

/** One agent's push: one agent_metrics and one performance_metrics point, like the contract's example. */
export function steadyBody(seq, agents, timeMs) {
  const a = seq % agents;
  const id = `bench-agent-${String(a).padStart(5, '0')}`;
  const r = (k) => Math.round(((Math.sin(seq * 12.9898 + k * 78.233) + 1) / 2) * 10000) / 100;
  return JSON.stringify({
    agent: { id, name: `Bench agent ${a}`, type: 'llm-agent', version: '1.4.2', host: `node-${a % 50}`, region: 'eu-west-1', tags: { env: 'bench', team: `team-${a % 20}` } },
    points: [
      { measurement: 'agent_metrics', fields: { cpu_usage: r(1), memory_usage: r(2) }, tags: { core: 'all' }, time: timeMs },
      { measurement: 'performance_metrics', fields: { tasks_completed: Math.floor(r(3) * 10), error_rate: r(4) / 100, response_time: r(5) * 10 }, time: timeMs },
    ],
  });
}
