// The load generators of bench/ingest.mjs, run in a worker thread so that the main thread stays
// free to sample CPU and memory and to poll InfluxDB on time. Plain node:http with keep-alive.
//
//   steady: an open-loop arrival schedule (request i is due at start + i / rate). Latency is measured
//           from the time a request was due, not from when it was sent, so a slow server or a late
//           generator shows up in the figures instead of being hidden (no coordinated omission).
//   peak:   line-protocol batches posted over a few keep-alive connections, each connection posting
//           the next batch as soon as the previous one was answered; 429/503 are retried after
//           Retry-After and counted.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { KeepAlivePool } from './keepalive-client.mjs';
import { peakBatch, steadyBody } from './data.mjs';

const now = () => performance.timeOrigin + performance.now();

function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

function summarize(values) {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    mean: sorted.length ? sum / sorted.length : null,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted.length ? sorted[sorted.length - 1] : null,
  };
}

/**
 * Keep-alive connections to each replica's URL, `connections` in all; request i goes to replica i mod
 * n (round robin, as a load balancer would). A lean client of node:net (keepalive-client.mjs): the
 * generator shares the machine with the stack it measures, so it should cost as little as it can.
 */
function pools(urls, connections) {
  const per = Math.max(1, Math.ceil(connections / urls.length));
  return urls.map((url) => {
    const u = new URL(url);
    return { pool: new KeepAlivePool(url, per), path: u.pathname + u.search };
  });
}

/** Latencies, generator lags and errors of a stretch of the schedule. */
function tally() {
  return { latencies: [], lags: [], errors: {}, samples: [], requests: 0 };
}

function summaryOf(t, seconds) {
  return {
    requests: t.requests,
    ok: t.latencies.length,
    failed: t.requests - t.latencies.length,
    errors: t.errors,
    samples: t.samples,
    elapsedS: seconds,
    achievedRate: t.requests / seconds,
    latencyMs: summarize(t.latencies),
    generatorLagMs: summarize(t.lags),
  };
}

/**
 * `leadInS` seconds of the same load come first and are reported apart (`leadIn`): the connections,
 * the generator and the caches of the stack warm up on them after the pause that follows the
 * warm-up, as a fleet that pushes all the time never needs. A `measuring` message marks where the
 * measured window starts.
 */
async function steady({ urls, keys, rate, durationS, leadInS = 0, agents, connections, timeoutMs, firstSeq }) {
  const replicas = pools(urls, connections);
  // agent a always uses key a % keys.length
  const headers = keys.map((key) => ({ 'content-type': 'application/json', authorization: `Bearer ${key}` }));
  const leadIn = Math.round(rate * leadInS);
  const total = leadIn + Math.round(rate * durationS);
  const interval = 1000 / rate;
  const lead = tally();
  const measured = tally();
  const perSecond = []; // [due second of the measured window] -> { n, ok, maxMs }
  let outstanding = 0;
  let next = 0;
  const start = now() + 20;
  const measuredStart = start + leadIn * interval;
  // how late this thread's own event loop runs (a 10 ms timer), per second of the schedule: a late
  // loop here delays reading answers, and that delay would count as the server's latency
  let lastTick = now();
  const loopTimer = setInterval(() => {
    const t = now();
    const late = t - lastTick - 10;
    lastTick = t;
    const second = Math.floor((t - measuredStart) / 1000);
    if (second < 0) return;
    const bucket = (perSecond[second] ??= { n: 0, ok: 0, maxMs: 0 });
    bucket.clientLateMs = Math.max(bucket.clientLateMs ?? 0, Math.round(late));
  }, 10);
  const allSent = new Promise((resolveSent) => {
    const tick = () => {
      const t = now();
      while (next < total && start + next * interval <= t) {
        if (next === leadIn && leadIn > 0) parentPort.postMessage({ type: 'measuring', at: t });
        const due = start + next * interval;
        const into = next < leadIn ? lead : measured;
        into.lags.push(t - due);
        into.requests++;
        const seq = firstSeq + next;
        const body = steadyBody(seq, agents, Math.floor(Date.now()));
        const second = into === measured ? Math.floor((due - measuredStart) / 1000) : -1;
        outstanding++;
        const { pool, path } = replicas[seq % replicas.length];
        void pool.send(pool.post(path, headers[seq % agents % keys.length], body), timeoutMs).then((res) => {
          outstanding--;
          const ms = now() - due;
          const bucket = second >= 0 ? (perSecond[second] ??= { n: 0, ok: 0, maxMs: 0 }) : null;
          if (bucket) {
            bucket.n++;
            bucket.maxMs = Math.max(bucket.maxMs, ms);
          }
          if (res.status === 202) {
            into.latencies.push(ms);
            if (bucket) bucket.ok++;
          } else {
            const what = res.status ? `HTTP ${res.status}` : res.error;
            into.errors[what] = (into.errors[what] ?? 0) + 1;
            if (res.status && into.samples.length < 5) into.samples.push(`${what}: ${res.body.slice(0, 300)}`);
          }
          if (outstanding === 0 && next >= total) done();
        });
        next++;
      }
      if (next < total) setTimeout(tick, Math.max(0, start + next * interval - now()));
      else resolveSent();
    };
    tick();
  });
  let done;
  const finished = new Promise((r) => (done = r));
  await allSent;
  if (outstanding > 0) await finished;
  const end = now();
  clearInterval(loopTimer);
  for (const r of replicas) r.pool.destroy();
  return {
    ...summaryOf(measured, (end - measuredStart) / 1000),
    perSecond: Array.from(perSecond, (b) => b ?? { n: 0, ok: 0, maxMs: 0 }),
    ...(leadIn > 0 ? { leadIn: summaryOf(lead, (measuredStart - start) / 1000) } : {}),
  };
}

async function peak({ urls, headers, batches, batchPoints, agents, t0, measurement, connections, timeoutMs }) {
  // the batches are made before the clock starts
  const bodies = [];
  // as bytes: encoding 66 MiB of text per phase would load the machine the phases share
  for (let b = 0; b < batches; b++) bodies.push(Buffer.from(peakBatch(b, batchPoints, agents, t0, measurement)));
  const bytes = bodies.reduce((n, s) => n + Buffer.byteLength(s), 0);
  // connection w posts to replica w mod n
  const replicas = pools(urls, connections);
  const statuses = {}; // answer (status or network error) -> count, retries included
  const samples = [];
  let retries = 0;
  let failed = 0;
  let nextBatch = 0;
  const batchMs = [];
  parentPort.postMessage({ type: 'started', at: now(), bytes });
  const start = now();
  const worker = async (_, w) => {
    const { pool, path } = replicas[w % replicas.length];
    for (;;) {
      const b = nextBatch++;
      if (b >= batches) return;
      for (let attempt = 0; ; attempt++) {
        const t = now();
        const res = await pool.send(pool.post(path, headers, bodies[b]), timeoutMs);
        statuses[res.status || res.error] = (statuses[res.status || res.error] ?? 0) + 1;
        if (res.status === 204 || res.status === 202) {
          batchMs.push(now() - t);
          break;
        }
        if ((res.status === 429 || res.status === 503) && attempt < 50) {
          retries++;
          const after = Number(res.headers?.['retry-after']);
          await new Promise((r) => setTimeout(r, Number.isFinite(after) && after > 0 ? Math.min(after, 5) * 1000 : 500));
          continue;
        }
        failed++;
        if (samples.length < 5) samples.push(res.status ? `HTTP ${res.status}: ${res.body.slice(0, 300)}` : res.error);
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const end = now();
  for (const r of replicas) r.pool.destroy();
  return { start, end, bytes, statuses, samples, retries, failedBatches: failed, batchMs: summarize(batchMs) };
}

const job = workerData;
const result = job.kind === 'steady' ? await steady(job) : await peak(job);
parentPort.postMessage({ type: 'result', result });
