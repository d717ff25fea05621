import type { FieldTypesByMeasurement, InfluxClient } from '../influx/influx.client.js';
import { BucketAggregator } from './bucket-aggregator.js';

/** One group's downsampling by ingest's own code: the statement reading its raw points, and where the aggregates go. */
export interface AggregateJob {
  /** `rawPointsStatement` of downsample-plan.ts */
  statement: string;
  db: string;
  /** the level's retention policy (agg_1m, agg_1h) */
  rp: string;
  bucketMs: number;
  /** the raw retention policy's field types (InfluxClient.fieldTypes) */
  types: FieldTypesByMeasurement;
  /** raw rows per chunk of InfluxDB's answer at most */
  chunkRows: number;
  /** aggregate lines per write */
  writeLines: number;
  timeoutMs: number;
}

/** Written here, or left to InfluxDB's statement for the reason given (what was written by then is written again by it). */
export type AggregateOutcome = { here: true } | { here: false; reason: string };

/** Runs a job: what a downsampling group costs ingest, in a worker thread (AggregatorThread) or on the caller's thread. */
export const GROUP_AGGREGATOR = Symbol('GROUP_AGGREGATOR');
export interface GroupAggregator {
  aggregate(job: AggregateJob): Promise<AggregateOutcome>;
  close(): Promise<void>;
}

/**
 * Reads one group's raw points (chunked), computes their aggregates (BucketAggregator) and writes them
 * into the level's retention policy, in parts as they complete.
 */
export async function aggregateGroup(influx: InfluxClient, job: AggregateJob): Promise<AggregateOutcome> {
  const aggregator = new BucketAggregator(job.bucketMs, job.types);
  await influx.queryChunked(
    job.statement,
    async (series) => {
      aggregator.add(series);
      if (aggregator.ready >= job.writeLines && !aggregator.unsupported) await influx.write(aggregator.take().join('\n'), job.rp);
    },
    { db: job.db, chunkSize: job.chunkRows, timeoutMs: job.timeoutMs },
  );
  const rest = aggregator.finish();
  if (aggregator.unsupported) return { here: false, reason: aggregator.unsupported };
  if (rest.length) await influx.write(rest.join('\n'), job.rp);
  return { here: true };
}

/** The job on the caller's own thread (the tests from sources, where no worker can load TypeScript). */
export class InProcessAggregator implements GroupAggregator {
  constructor(private readonly influx: InfluxClient) {}

  aggregate(job: AggregateJob): Promise<AggregateOutcome> {
    return aggregateGroup(this.influx, job);
  }

  async close(): Promise<void> {}
}
