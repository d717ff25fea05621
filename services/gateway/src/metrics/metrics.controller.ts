import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  AgentIdSchema,
  AggregateFnSchema,
  AggregateResultSchema,
  AggregateTimerangeSchema,
  AppError,
  HistoricalResultSchema,
  MeasurementNameSchema,
  TimeQuerySchema,
  type AggregateTimerange,
  type RpcRequest,
} from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { ZParam, ZQuery } from '@agentmon/http-kit';
import { Access } from '../access/access.decorator.js';
import { ApiDoc } from '../openapi/zod-openapi.js';
import { ResponseCache } from './response-cache.js';

const HOUR_MS = 3_600_000;

const HistoricalHttpQueryShape = z.object({
  measurement: MeasurementNameSchema.default('agent_metrics'),
  /** comma-separated field names; all fields when absent */
  fields: z.string().max(16_384).optional(),
  from: TimeQuerySchema.optional(),
  to: TimeQuerySchema.optional(),
  interval: z.string().regex(/^\d+(s|m|h|d)$/, 'must be a duration like 30s, 1m, 1h, 1d').optional(),
});

/** The query string of a historical query: defaults to the last hour, `fields=a,b` becomes a list. */
export const HistoricalHttpQuerySchema = HistoricalHttpQueryShape.transform((q, ctx) => {
  const to = q.to ?? Date.now();
  const from = q.from ?? to - HOUR_MS;
  if (from >= to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before to' });
  let fields: string[] | undefined;
  if (q.fields !== undefined) {
    fields = q.fields
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f.length > 0);
    if (fields.length === 0) ctx.addIssue({ code: 'custom', path: ['fields'], message: 'must name at least one field' });
    if (fields.length > 50) ctx.addIssue({ code: 'custom', path: ['fields'], message: 'at most 50 fields' });
    if (fields.some((f) => f.length > 256)) ctx.addIssue({ code: 'custom', path: ['fields'], message: 'a field name is longer than 256 characters' });
  }
  return { measurement: q.measurement, from, to, ...(fields ? { fields } : {}), ...(q.interval ? { interval: q.interval } : {}) };
});

export const AggregateHttpQuerySchema = z.object({
  measurement: MeasurementNameSchema.default('agent_metrics'),
  field: z.string().min(1).max(256),
  fn: AggregateFnSchema.default('mean'),
  group_by: z
    .string()
    .regex(/^(agent|group|tag:.{1,256})$/, 'must be agent, group or tag:KEY')
    .optional(),
  interval: z.string().regex(/^\d+(s|m|h|d)$/, 'must be a duration like 30s, 1m, 1h, 1d').optional(),
});

/**
 * How long an aggregate answer is cached in Redis, by range: about one interval of its series (the
 * chosen resolution is range / 300), so a cached chart is never more than one point behind.
 */
export const AGGREGATE_CACHE_TTL_MS: Record<AggregateTimerange, number> = {
  '15m': 5_000,
  '1h': 10_000,
  '6h': 30_000,
  '24h': 60_000,
  '7d': 120_000,
  '30d': 300_000,
  '90d': 300_000,
  '1y': 300_000,
};

@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(ResponseCache) private readonly cache: ResponseCache,
  ) {}

  @Get('aggregate/:timerange')
  @Access('read')
  @ApiDoc({
    summary: 'One function of a field over the last timerange: for the fleet, per agent or per tag value',
    description:
      'fn: mean, min, max, sum, count (any field type) or p95. group_by: agent, tag:KEY, or absent for the whole fleet; `group` (agent groups) is ' +
      'not available yet and answers 400. Each series has the value over the whole range and a point per interval (chosen so a series has about 300 points ' +
      'when absent). Up to 6h raw points are read (exact); up to 7d the 1-minute aggregates; beyond, the 1-hour ones (p95 there is the 95th percentile of the ' +
      'per-minute/per-hour means). Answers are cached for 5 s (15m) to 5 min (30d and more).',
    params: { timerange: AggregateTimerangeSchema },
    query: AggregateHttpQuerySchema,
    response: [200, 'AggregateResult', AggregateResultSchema],
  })
  async aggregate(@ZParam('timerange', AggregateTimerangeSchema) timerange: AggregateTimerange, @ZQuery(AggregateHttpQuerySchema) q: z.output<typeof AggregateHttpQuerySchema>) {
    if (q.group_by === 'group') {
      // agent groups do not exist in the registry yet, so there is no membership to group by
      throw new AppError('bad_request', 'grouping by group is not available yet', [{ path: 'group_by', reason: 'grouping by group is not available yet; use agent or tag:KEY' }]);
    }
    const request: RpcRequest<'rpc.ingest.metrics.aggregate.v1'> = {
      timerange,
      measurement: q.measurement,
      fields: [q.field],
      fn: q.fn,
      ...(q.group_by === 'agent' ? { group_by: { kind: 'agent' as const } } : {}),
      ...(q.group_by?.startsWith('tag:') ? { group_by: { kind: 'tag' as const, key: q.group_by.slice(4) } } : {}),
      ...(q.interval ? { interval: q.interval } : {}),
    };
    return this.cache.getOrCompute(ResponseCache.key('aggregate', request), AGGREGATE_CACHE_TTL_MS[timerange], () =>
      this.rpc.request('rpc.ingest.metrics.aggregate.v1', request),
    );
  }

  @Get('historical/:agent_id')
  @Access('read')
  @ApiDoc({
    summary: 'Time series of one agent',
    description: 'from/to: RFC 3339 or epoch ms (default: the last hour). Without interval, the resolution keeps a series near 1,000 points.',
    params: { agent_id: AgentIdSchema },
    query: HistoricalHttpQueryShape,
    response: [200, 'HistoricalResult', HistoricalResultSchema],
  })
  historical(@ZParam('agent_id', AgentIdSchema) agentId: string, @ZQuery(HistoricalHttpQuerySchema) q: z.output<typeof HistoricalHttpQuerySchema>) {
    return this.rpc.request('rpc.ingest.metrics.historical.v1', { agent_id: agentId, ...q });
  }
}
