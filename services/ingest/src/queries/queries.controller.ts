import { Controller, Inject } from '@nestjs/common';
import { RpcHandler } from '@agentmon/messaging';
import type { RpcParsedRequest } from '@agentmon/contracts';
import { LatestValuesService } from '../latest/latest-values.service.js';
import { IngestStatsService } from '../stats/ingest-stats.service.js';
import { AggregateService } from './aggregate.service.js';
import { HistoricalService } from './historical.service.js';

/** What other services ask ingest over NATS: metric history, aggregates, latest values and ingest rates. */
@Controller()
export class QueriesController {
  constructor(
    @Inject(HistoricalService) private readonly historical: HistoricalService,
    @Inject(AggregateService) private readonly aggregate: AggregateService,
    @Inject(LatestValuesService) private readonly latest: LatestValuesService,
    @Inject(IngestStatsService) private readonly stats: IngestStatsService,
  ) {}

  @RpcHandler('rpc.ingest.metrics.historical.v1')
  async metricsHistorical(req: RpcParsedRequest<'rpc.ingest.metrics.historical.v1'>) {
    return this.historical.query(req);
  }

  @RpcHandler('rpc.ingest.metrics.aggregate.v1')
  async metricsAggregate(req: RpcParsedRequest<'rpc.ingest.metrics.aggregate.v1'>) {
    return this.aggregate.query(req);
  }

  @RpcHandler('rpc.ingest.metrics.latest.v1')
  async metricsLatest(req: RpcParsedRequest<'rpc.ingest.metrics.latest.v1'>) {
    return this.latest.read(req.agent_ids, req.measurements);
  }

  @RpcHandler('rpc.ingest.stats.v1')
  async ingestStats() {
    return this.stats.rates();
  }
}
