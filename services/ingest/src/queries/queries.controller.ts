import { Controller, Inject } from '@nestjs/common';
import { RpcHandler } from '@agentmon/messaging';
import type { RpcParsedRequest } from '@agentmon/contracts';
import { IngestStatsService } from '../stats/ingest-stats.service.js';
import { HistoricalService } from './historical.service.js';

/** What other services ask ingest over NATS: metric history and ingest rates. */
@Controller()
export class QueriesController {
  constructor(
    @Inject(HistoricalService) private readonly historical: HistoricalService,
    @Inject(IngestStatsService) private readonly stats: IngestStatsService,
  ) {}

  @RpcHandler('rpc.ingest.metrics.historical.v1')
  async metricsHistorical(req: RpcParsedRequest<'rpc.ingest.metrics.historical.v1'>) {
    return this.historical.query(req);
  }

  @RpcHandler('rpc.ingest.stats.v1')
  async ingestStats() {
    return this.stats.rates();
  }
}
