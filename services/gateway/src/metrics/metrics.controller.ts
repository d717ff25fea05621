import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AgentIdSchema, HistoricalResultSchema, MeasurementNameSchema, TimeQuerySchema } from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { ZParam, ZQuery } from '@agentmon/http-kit';
import { Access } from '../access/access.decorator.js';
import { ApiDoc } from '../openapi/zod-openapi.js';

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

@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

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
