/**
 * The downsampling thread (AggregatorThread): runs each job it is sent with its own InfluxDB client,
 * so the raw points' JSON, the aggregates and their line protocol never touch the event loop that
 * serves ingest's requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InfluxClient, InfluxError, type InfluxClientOptions } from '../influx/influx.client.js';
import { aggregateGroup, type AggregateJob, type AggregateOutcome } from './aggregate-group.js';

export interface AggregateRequest {
  id: number;
  job: AggregateJob;
}
export type AggregateReply =
  | { id: number; outcome: AggregateOutcome }
  | { id: number; error: { message: string; influx?: { status: number | null; retryable: boolean } } };

if (!parentPort) throw new Error('aggregate.worker.js runs as a worker thread of AggregatorThread');
const port = parentPort;
const influx = new InfluxClient(workerData as InfluxClientOptions);

port.on('message', (m: AggregateRequest) => {
  aggregateGroup(influx, m.job).then(
    (outcome) => port.postMessage({ id: m.id, outcome } satisfies AggregateReply),
    (err: unknown) => {
      const error: Extract<AggregateReply, { error: unknown }>['error'] = { message: err instanceof Error ? err.message : String(err) };
      if (err instanceof InfluxError) error.influx = { status: err.status, retryable: err.retryable };
      port.postMessage({ id: m.id, error } satisfies AggregateReply);
    },
  );
});
