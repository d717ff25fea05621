import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import {
  AgentListQuerySchema,
  AggregateFnSchema,
  AggregateSeriesSchema,
  AggregateTimerangeSchema,
  AgentStatusSchema,
  type AggregateFn,
  type AggregateTimerange,
  type RpcResponse,
} from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import type { Logger } from 'pino';
import { LOGGER } from '../logger.token.js';
import { AGGREGATE_CACHE_TTL_MS } from '../metrics/metrics.controller.js';
import { ResponseCache } from '../metrics/response-cache.js';

/**
 * The fleet-wide series the dashboard draws: the measurements CONTRACT.md says it knows, each field
 * with the function that makes sense for it (levels are averaged, counts and costs are summed).
 */
export const DASHBOARD_SERIES: { measurement: string; fn: AggregateFn; fields: string[] }[] = [
  { measurement: 'agent_metrics', fn: 'mean', fields: ['cpu_usage', 'memory_usage'] },
  { measurement: 'performance_metrics', fn: 'mean', fields: ['error_rate', 'response_time'] },
  { measurement: 'performance_metrics', fn: 'sum', fields: ['tasks_completed'] },
  { measurement: 'ai_metrics', fn: 'mean', fields: ['inference_time', 'accuracy'] },
  { measurement: 'ai_metrics', fn: 'sum', fields: ['tokens_in', 'tokens_out', 'cost'] },
];

export const DashboardMetricsSchema = z.object({
  timerange: AggregateTimerangeSchema,
  interval: z.string(),
  from: z.string(),
  to: z.string(),
  series: z.array(AggregateSeriesSchema.omit({ group: true }).extend({ measurement: z.string(), fn: AggregateFnSchema, source: z.enum(['raw', 'agg_1m', 'agg_1h']) })),
  generated_at: z.string(),
});
export type DashboardMetrics = z.infer<typeof DashboardMetricsSchema>;

export const AgentsSummaryQuerySchema = AgentListQuerySchema.pick({ limit: true, cursor: true, status: true, q: true });
const metric = z.object({ value: z.number(), time: z.string() }).nullable();
export const AgentSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  status: AgentStatusSchema,
  last_seen: z.string().nullable(),
  cpu_usage: metric,
  memory_usage: metric,
  error_rate: metric,
});
export const AgentsSummarySchema = z.object({
  items: z.array(AgentSummarySchema),
  next_cursor: z.string().nullable(),
  /** `["ingest"]` when the latest values could not be read (the metrics are null then) */
  unavailable: z.array(z.literal('ingest')),
});
export type AgentsSummary = z.infer<typeof AgentsSummarySchema>;

/** How long the fleet series and the agent summary are cached in Redis. */
export const SUMMARY_CACHE_TTL_MS = 5_000;
const LATEST_TIMEOUT_MS = 2_000;

@Injectable()
export class DashboardMetricsService {
  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(ResponseCache) private readonly cache: ResponseCache,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Fleet-wide series of the dashboard measurements over the last timerange (cached like aggregates). */
  metrics(timerange: AggregateTimerange): Promise<DashboardMetrics> {
    return this.cache.getOrCompute(ResponseCache.key('dashboard-metrics', { timerange }), AGGREGATE_CACHE_TTL_MS[timerange], async () => {
      const answers = await Promise.all(
        DASHBOARD_SERIES.map((s) => this.rpc.request('rpc.ingest.metrics.aggregate.v1', { timerange, measurement: s.measurement, fields: s.fields, fn: s.fn })),
      );
      const first = answers[0]!;
      return {
        timerange,
        interval: first.interval,
        from: first.from,
        to: first.to,
        series: answers.flatMap((a) => a.series.map((s) => ({ measurement: a.measurement, fn: a.fn, source: a.source, field: s.field, value: s.value, points: s.points }))),
        generated_at: new Date().toISOString(),
      };
    });
  }

  /** A page of agents (registry) with their latest cpu, memory and error rate (ingest's Redis). */
  summary(q: z.output<typeof AgentsSummaryQuerySchema>): Promise<AgentsSummary> {
    return this.cache.getOrCompute(ResponseCache.key('agents-summary', q), SUMMARY_CACHE_TTL_MS, async () => {
      const page = await this.rpc.request('rpc.registry.agent.list.v1', q);
      let latest: RpcResponse<'rpc.ingest.metrics.latest.v1'> | null = null;
      if (page.items.length > 0) {
        try {
          latest = await this.rpc.request(
            'rpc.ingest.metrics.latest.v1',
            { agent_ids: page.items.map((a) => a.id), measurements: ['agent_metrics', 'performance_metrics'] },
            { timeoutMs: LATEST_TIMEOUT_MS },
          );
        } catch (err) {
          this.logger.warn({ err }, 'agents summary: latest values unavailable');
        }
      }
      const values = new Map(latest?.items.map((i) => [i.agent_id, i.measurements]) ?? []);
      const num = (v: { value: unknown; time: string } | undefined) => (v && typeof v.value === 'number' ? { value: v.value, time: v.time } : null);
      return {
        items: page.items.map((a) => {
          const m = values.get(a.id);
          return {
            id: a.id,
            name: a.name,
            status: a.status,
            last_seen: a.last_seen,
            cpu_usage: num(m?.agent_metrics?.cpu_usage),
            memory_usage: num(m?.agent_metrics?.memory_usage),
            error_rate: num(m?.performance_metrics?.error_rate),
          };
        }),
        next_cursor: page.next_cursor,
        unavailable: page.items.length > 0 && !latest ? ['ingest' as const] : [],
      };
    }, (answer) => answer.unavailable.length === 0);
  }
}
