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
 * The agents of accepted telemetry, for registration and heartbeats (`evt.ingest.telemetry.agents.v1`).
 * An agent new to the ingest replica, or saying something new about itself, is published with its
 * batch's points (`evt.ingest.telemetry.lines.v1`, see TelemetryLines) before the request is answered;
 * an agent the replica named before is a heartbeat, published up to a second later with the other
 * heartbeats of that time in a message of their own (no points share its batch_id; received_at is the
 * earliest of theirs). Small, so that the registry never reads the points themselves.
 */
export const TelemetryAgentsSchema = z.object({
  /** the id of the accepted batch (several small requests stored together share one) */
  batch_id: z.string(),
  received_at: z.number().int(),
  source: z.enum(['json', 'line', 'otlp']),
  /**
   * Every agent with points in the batch: what the agent said about itself in a JSON batch, `{id}`
   * for an agent_id of line protocol or OTLP.
   */
  agents: z.array(AgentInfoSchema),
});
export type TelemetryAgents = z.infer<typeof TelemetryAgentsSchema>;

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

/** The ranges an aggregate query may cover, ending now. */
export const AGGREGATE_TIMERANGES = ['15m', '1h', '6h', '24h', '7d', '30d', '90d', '1y'] as const;
export const AggregateTimerangeSchema = z.enum(AGGREGATE_TIMERANGES);
export type AggregateTimerange = z.infer<typeof AggregateTimerangeSchema>;
export const AggregateFnSchema = z.enum(['mean', 'min', 'max', 'sum', 'count', 'p95']);
export type AggregateFn = z.infer<typeof AggregateFnSchema>;
/** A tag key to group by (agent_id is `{kind: "agent"}`). */
export const TagKeySchema = z.string().min(1).max(256);

/**
 * `rpc.ingest.metrics.aggregate.v1`: one function of one or more fields of a measurement over the
 * last `timerange`, for the whole fleet (no group_by), per agent, or per value of a tag. Grouping by
 * agent group is not offered: the registry has no group membership yet.
 */
export const AggregateQuerySchema = z.object({
  timerange: AggregateTimerangeSchema,
  measurement: MeasurementNameSchema,
  fields: z.array(z.string().min(1).max(256)).min(1).max(20),
  fn: AggregateFnSchema,
  group_by: z.discriminatedUnion('kind', [z.object({ kind: z.literal('agent') }), z.object({ kind: z.literal('tag'), key: TagKeySchema })]).optional(),
  /** duration like 5m; chosen from the range when absent */
  interval: z.string().regex(/^\d+(s|m|h|d)$/).optional(),
});
export const AggregateSeriesSchema = z.object({
  field: z.string(),
  /** the tag values of the group: `{agent_id}`, `{<tag key>}` (empty string for points without the tag), or `{}` for the fleet */
  group: z.record(z.string(), z.string()),
  /** the function over the whole range */
  value: z.number().nullable(),
  /** the function per interval, `[RFC 3339 start of the interval, value]` */
  points: z.array(z.tuple([z.string(), z.number().nullable()])),
});
export const AggregateResultSchema = z.object({
  timerange: AggregateTimerangeSchema,
  measurement: z.string(),
  fn: AggregateFnSchema,
  group_by: z.string().nullable(),
  interval: z.string(),
  /** where the answer came from: raw points or the 1-minute / 1-hour aggregates */
  source: z.enum(['raw', 'agg_1m', 'agg_1h']),
  from: z.string(),
  to: z.string(),
  series: z.array(AggregateSeriesSchema),
  /** true when there were more groups than one answer carries (the first ones by name are given) */
  truncated: z.boolean(),
});
export type AggregateResult = z.infer<typeof AggregateResultSchema>;

/** One field's latest value and when it was measured. */
export const LatestValueSchema = z.object({ value: FieldValueSchema, time: z.string() });
/** `rpc.ingest.metrics.latest.v1`: the last value of every field of every measurement (or of the named ones) of each agent. */
export const LatestQuerySchema = z.object({
  agent_ids: z.array(AgentIdSchema).min(1).max(1000),
  measurements: z.array(MeasurementNameSchema).max(50).optional(),
});
export const LatestResultSchema = z.object({
  items: z.array(
    z.object({
      agent_id: z.string(),
      /** measurement → field → latest value; `{}` for an agent that sent nothing (or nothing recent) */
      measurements: z.record(z.string(), z.record(z.string(), LatestValueSchema)),
    }),
  ),
});
export type LatestResult = z.infer<typeof LatestResultSchema>;

export const ingestRpc = {
  'rpc.ingest.metrics.historical.v1': { request: HistoricalQuerySchema, response: HistoricalResultSchema },
  'rpc.ingest.stats.v1': { request: z.object({}), response: IngestStatsSchema },
  'rpc.ingest.metrics.aggregate.v1': { request: AggregateQuerySchema, response: AggregateResultSchema },
  'rpc.ingest.metrics.latest.v1': { request: LatestQuerySchema, response: LatestResultSchema },
} as const;
