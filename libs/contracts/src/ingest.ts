import { z } from 'zod';
import { AgentIdSchema, TagsSchema } from './common.js';
import { AgentInfoSchema } from './registry.js';

export const FieldValueSchema = z.union([z.number(), z.boolean(), z.string().max(65_536)]);
export const MeasurementNameSchema = z.string().min(1).max(256);

/** One point as it travels inside the system: agent id resolved, time in epoch ms. */
export const StoredPointSchema = z.object({
  agent_id: AgentIdSchema,
  measurement: MeasurementNameSchema,
  tags: TagsSchema,
  fields: z.record(z.string().min(1).max(256), FieldValueSchema),
  /** epoch milliseconds */
  time: z.number().int(),
});
export type StoredPoint = z.infer<typeof StoredPointSchema>;

/**
 * One accepted ingest request (or one chunk of it when the request is larger than a NATS message).
 * Published on the TELEMETRY stream; the InfluxDB writer, the registry and the alerting evaluator
 * each consume it with their own durable consumer.
 */
export const TelemetryBatchSchema = z.object({
  batch_id: z.string(),
  chunk: z.number().int().nonnegative(),
  chunks: z.number().int().positive(),
  received_at: z.number().int(),
  source: z.enum(['json', 'line', 'otlp']),
  /**
   * The agents of the batch, for registration and heartbeats: what the agent said about itself in a
   * JSON batch; `{id}` of each agent_id in a line-protocol batch. Every chunk of a batch repeats it.
   */
  agents: z.array(AgentInfoSchema),
  points: z.array(StoredPointSchema),
});
export type TelemetryBatch = z.infer<typeof TelemetryBatchSchema>;

export const HistoricalQuerySchema = z.object({
  agent_id: AgentIdSchema,
  measurement: MeasurementNameSchema,
  fields: z.array(z.string().min(1).max(256)).max(50).optional(),
  /** epoch ms */
  from: z.number().int(),
  to: z.number().int(),
  /** duration like 1m; chosen from the range when absent */
  interval: z.string().regex(/^\d+(s|m|h|d)$/).optional(),
});
export const HistoricalResultSchema = z.object({
  agent_id: z.string(),
  measurement: z.string(),
  interval: z.string(),
  series: z.array(z.object({ field: z.string(), points: z.array(z.tuple([z.string(), z.number().nullable()])) })),
});
export type HistoricalResult = z.infer<typeof HistoricalResultSchema>;

export const IngestStatsSchema = z.object({ points_per_second: z.number(), requests_per_second: z.number() });

export const ingestRpc = {
  'rpc.ingest.metrics.historical.v1': { request: HistoricalQuerySchema, response: HistoricalResultSchema },
  'rpc.ingest.stats.v1': { request: z.object({}), response: IngestStatsSchema },
} as const;
