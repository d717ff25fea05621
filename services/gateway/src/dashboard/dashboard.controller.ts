import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { AggregateTimerangeSchema, type AggregateTimerange } from '@agentmon/contracts';
import { ZParam, ZQuery } from '@agentmon/http-kit';
import { Access } from '../access/access.decorator.js';
import { ApiDoc } from '../openapi/zod-openapi.js';
import { AgentsSummaryQuerySchema, AgentsSummarySchema, DashboardMetricsSchema, DashboardMetricsService } from './dashboard-metrics.service.js';
import { DashboardService } from './dashboard.service.js';

@ApiTags('dashboard')
@Controller('dashboard')
export class DashboardController {
  constructor(
    @Inject(DashboardService) private readonly dashboard: DashboardService,
    @Inject(DashboardMetricsService) private readonly metrics: DashboardMetricsService,
  ) {}

  @Get('overview')
  @Access('read')
  @ApiOperation({
    summary: 'Agents by status, firing alerts by severity, ingest rate',
    description:
      '`{agents: {total, online, offline, degraded} | null, alerts: {firing, pending, by_severity: {critical, warning, info}} | null, ' +
      'ingest: {points_per_second, requests_per_second} | null, unavailable: [service], generated_at}`. A part is null when its service does not answer.',
  })
  @ApiResponse({ status: 200, description: 'the overview' })
  overview() {
    return this.dashboard.overview();
  }

  @Get('metrics/:timerange')
  @Access('read')
  @ApiDoc({
    summary: 'Fleet-wide series of the dashboard measurements over the last timerange',
    description:
      'agent_metrics cpu_usage and memory_usage (mean), performance_metrics error_rate and response_time (mean) and tasks_completed (sum), ' +
      'ai_metrics inference_time and accuracy (mean) and tokens_in, tokens_out, cost (sum), for the whole fleet. Cached like the aggregates ' +
      '(5 s for 15m … 5 min for 30d and more).',
    params: { timerange: AggregateTimerangeSchema },
    response: [200, 'DashboardMetrics', DashboardMetricsSchema],
  })
  fleetMetrics(@ZParam('timerange', AggregateTimerangeSchema) timerange: AggregateTimerange) {
    return this.metrics.metrics(timerange);
  }

  @Get('agents/summary')
  @Access('read')
  @ApiDoc({
    summary: 'A page of agents with their status and latest cpu, memory and error rate',
    description:
      'Agents from the registry (filters status, q; limit and cursor as in /agents) with the latest agent_metrics cpu_usage, memory_usage and ' +
      'performance_metrics error_rate the ingest service keeps per agent (null when the agent sent none). When ingest does not answer, the metrics are ' +
      'null and `unavailable` lists it. Cached 5 s.',
    query: AgentsSummaryQuerySchema,
    response: [200, 'AgentsSummary', AgentsSummarySchema],
  })
  agentsSummary(@ZQuery(AgentsSummaryQuerySchema) q: z.output<typeof AgentsSummaryQuerySchema>) {
    return this.metrics.summary(q);
  }
}
