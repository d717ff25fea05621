import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { InfluxError, type InfluxClientOptions } from '../influx/influx.client.js';
import type { AggregateJob, AggregateOutcome, GroupAggregator } from './aggregate-group.js';
import type { AggregateReply, AggregateRequest } from './aggregate.worker.js';

/** The worker's script, beside this module once built (services/ingest/dist/downsample). */
export const AGGREGATE_WORKER_URL = new URL('./aggregate.worker.js', import.meta.url);
/** Whether this module runs built (JavaScript), where the worker's script is; from sources (tests) it is not. */
export const RUNS_BUILT = import.meta.url.endsWith('.js');

interface Pending {
  resolve: (outcome: AggregateOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * Downsampling groups in a worker thread of their own (aggregate.worker.ts): reading a group's raw
 * points, parsing InfluxDB's JSON, aggregating and writing line protocol took the event loop that
 * serves ingest's requests for up to tens of ms at a time (docs/benchmarks.md, item 48). The thread
 * starts with the first job, is reused, and is started again after it died (the jobs it had fail; a
 * failed run is retried a minute later). Only the job and its outcome cross between the threads.
 */
export class AggregatorThread implements GroupAggregator {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly influx: InfluxClientOptions,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly script: URL = AGGREGATE_WORKER_URL,
  ) {}

  aggregate(job: AggregateJob): Promise<AggregateOutcome> {
    if (this.closed) return Promise.reject(new Error('the downsampling thread is closed'));
    const worker = this.worker ?? this.start();
    const id = ++this.nextId;
    return new Promise<AggregateOutcome>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, job } satisfies AggregateRequest);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
    this.failAll(new Error('the downsampling thread was closed'));
  }

  private start(): Worker {
    const worker = new Worker(this.script, { workerData: this.influx, name: 'agentmon-downsampling' });
    // it never keeps the process alive: ingest's shutdown closes it, and an exit does not wait for it
    worker.unref();
    worker.on('message', (m: AggregateReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if ('outcome' in m) p.resolve(m.outcome);
      else p.reject(m.error.influx ? new InfluxError(m.error.message, m.error.influx.status, m.error.influx.retryable) : new Error(m.error.message));
    });
    worker.on('error', (err) => {
      this.logger.warn({ err }, 'the downsampling thread failed; its jobs fail, and the next starts it again');
      this.ended(worker, err);
    });
    worker.on('exit', (code) => this.ended(worker, new Error(`the downsampling thread ended (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private ended(worker: Worker, err: unknown): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.failAll(err);
  }

  private failAll(err: unknown): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
