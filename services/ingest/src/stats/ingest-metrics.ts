import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Prometheus series of the ingest service (on /metrics, next to the process metrics). */
export function ingestMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'agentmon_ingest_requests_total',
      help: 'Ingest requests by format and outcome',
      labelNames: ['source', 'outcome'] as const,
      registers: [registry],
    }),
    points: new Counter({
      name: 'agentmon_ingest_points_total',
      help: 'Points accepted (stored in JetStream) by format',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    chunks: new Counter({
      name: 'agentmon_ingest_stream_messages_total',
      help: 'Telemetry messages published to JetStream',
      registers: [registry],
    }),
    publishSeconds: new Histogram({
      name: 'agentmon_ingest_publish_seconds',
      help: 'Time until JetStream acknowledged a batch',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    linesWritten: new Counter({
      name: 'agentmon_influx_lines_written_total',
      help: 'Lines InfluxDB acknowledged',
      registers: [registry],
    }),
    writeFailures: new Counter({
      name: 'agentmon_influx_write_failures_total',
      help: 'InfluxDB writes that failed, by kind (retried: will be redelivered; refused: InfluxDB dropped part of the batch)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    writeSeconds: new Histogram({
      name: 'agentmon_influx_write_seconds',
      help: 'Duration of one InfluxDB write',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    downsampleRuns: new Counter({
      name: 'agentmon_ingest_downsample_runs_total',
      help: 'Downsampling runs by level and outcome (ok, failed, deferred while the writer is behind, elsewhere: another replica holds the lock)',
      labelNames: ['level', 'outcome'] as const,
      registers: [registry],
    }),
    downsampleGroups: new Counter({
      name: 'agentmon_ingest_downsample_groups_total',
      help: 'Groups of agents downsampled, by level and by who computed the aggregates (ingest: from the raw points read once; influxdb: its own statement, for points ingest cannot take exactly)',
      labelNames: ['level', 'by'] as const,
      registers: [registry],
    }),
    downsampleSeconds: new Histogram({
      name: 'agentmon_ingest_downsample_run_seconds',
      help: 'Duration of a successful downsampling run, pauses included',
      labelNames: ['level'] as const,
      buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    downsampleLastSuccess: new Gauge({
      name: 'agentmon_ingest_downsample_last_success_timestamp_seconds',
      help: 'When the last successful downsampling run of this replica began',
      labelNames: ['level'] as const,
      registers: [registry],
    }),
  };
}
export type IngestMetrics = ReturnType<typeof ingestMetrics>;
export const INGEST_METRICS = Symbol('INGEST_METRICS');
