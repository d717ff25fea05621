import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InfluxError } from '../influx/influx.client.js';
import type { AggregateJob } from './aggregate-group.js';
import { AggregatorThread } from './aggregator-thread.js';

// AggregatorThread's bookkeeping around a real worker thread, whose script here stands in for
// aggregate.worker.js (which test/queries.int-spec.ts runs against InfluxDB): it answers by the job's
// statement, and ends its thread on 'exit'.
const STAND_IN = `
import { parentPort } from 'node:worker_threads';
parentPort.on('message', ({ id, job }) => {
  if (job.statement === 'exit') process.exit(3);
  if (job.statement === 'influx') return parentPort.postMessage({ id, error: { message: 'InfluxDB query failed (400): bad', influx: { status: 400, retryable: false } } });
  if (job.statement === 'other') return parentPort.postMessage({ id, error: { message: 'something else' } });
  setTimeout(() => parentPort.postMessage({ id, outcome: { here: job.statement !== 'refuse', ...(job.statement === 'refuse' ? { reason: 'no' } : {}) } }), job.timeoutMs);
});
`;

const dir = mkdtempSync(join(tmpdir(), 'agentmon-aggregator-thread-'));
const script = pathToFileURL(join(dir, 'stand-in.mjs'));
writeFileSync(script, STAND_IN);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const job = (statement: string, delayMs = 0): AggregateJob => ({ statement, db: 'db', rp: 'agg_1m', bucketMs: 60_000, types: new Map(), chunkRows: 1000, writeLines: 5000, timeoutMs: delayMs });

describe('AggregatorThread', () => {
  it('answers each job with its own outcome, several in flight on one thread', async () => {
    const thread = new AggregatorThread({ url: 'http://influx:8086', database: 'db' }, { warn() {} }, script);
    try {
      const [slow, fast, refused] = await Promise.all([thread.aggregate(job('ok', 50)), thread.aggregate(job('ok', 0)), thread.aggregate(job('refuse', 10))]);
      expect([slow, fast, refused]).toEqual([{ here: true }, { here: true }, { here: false, reason: 'no' }]);
    } finally {
      await thread.close();
    }
  });

  it("hands InfluxDB's errors back as InfluxError (status, retryable), others as Error", async () => {
    const thread = new AggregatorThread({ url: 'http://influx:8086', database: 'db' }, { warn() {} }, script);
    try {
      const influx = await thread.aggregate(job('influx')).catch((e: unknown) => e);
      expect(influx).toBeInstanceOf(InfluxError);
      expect(influx).toMatchObject({ message: 'InfluxDB query failed (400): bad', status: 400, retryable: false });
      const other = await thread.aggregate(job('other')).catch((e: unknown) => e);
      expect(other).not.toBeInstanceOf(InfluxError);
      expect(other).toMatchObject({ message: 'something else' });
    } finally {
      await thread.close();
    }
  });

  it('a thread that ends fails the jobs it had, and the next job starts a new one', async () => {
    const thread = new AggregatorThread({ url: 'http://influx:8086', database: 'db' }, { warn() {} }, script);
    try {
      const waiting = thread.aggregate(job('ok', 10_000));
      await expect(thread.aggregate(job('exit'))).rejects.toThrow('the downsampling thread ended (exit code 3)');
      await expect(waiting).rejects.toThrow('the downsampling thread ended (exit code 3)');
      expect(await thread.aggregate(job('ok'))).toEqual({ here: true });
    } finally {
      await thread.close();
    }
  });

  it('once closed, fails what it had and refuses new jobs', async () => {
    const thread = new AggregatorThread({ url: 'http://influx:8086', database: 'db' }, { warn() {} }, script);
    const waiting = thread.aggregate(job('ok', 10_000));
    await thread.close();
    await expect(waiting).rejects.toThrow('the downsampling thread was closed');
    await expect(thread.aggregate(job('ok'))).rejects.toThrow('the downsampling thread is closed');
  });
});
