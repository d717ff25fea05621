import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { BackpressureModule } from '../backpressure/backpressure.module.js';
import { INGEST_CONFIG, type IngestConfig } from '../config.js';
import { InfluxClient } from '../influx/influx.client.js';
import { InfluxModule } from '../influx/influx.module.js';
import { LOGGER } from '../logger.token.js';
import { StatsModule } from '../stats/stats.module.js';
import { GROUP_AGGREGATOR, InProcessAggregator, type GroupAggregator } from './aggregate-group.js';
import { AggregatorThread, RUNS_BUILT } from './aggregator-thread.js';
import { BackfillMarks } from './backfill-marks.service.js';
import { DownsamplerService } from './downsampler.service.js';

/** The 1-minute and 1-hour aggregates, computed from the raw points on a schedule. */
@Module({
  imports: [InfluxModule, StatsModule, BackpressureModule],
  providers: [
    DownsamplerService,
    BackfillMarks,
    {
      provide: GROUP_AGGREGATOR,
      inject: [InfluxClient, INGEST_CONFIG, LOGGER],
      // from sources (the tests under Jest) no worker thread can load the TypeScript: the caller's thread
      useFactory: (influx: InfluxClient, config: IngestConfig, logger: Logger): GroupAggregator =>
        config.DOWNSAMPLE_THREAD && RUNS_BUILT ? new AggregatorThread(influx.opts, logger) : new InProcessAggregator(influx),
    },
  ],
  exports: [DownsamplerService, BackfillMarks],
})
export class DownsampleModule {}
