import { Module } from '@nestjs/common';
import { BackpressureModule } from '../backpressure/backpressure.module.js';
import { InfluxModule } from '../influx/influx.module.js';
import { StatsModule } from '../stats/stats.module.js';
import { BackfillMarks } from './backfill-marks.service.js';
import { DownsamplerService } from './downsampler.service.js';

/** The 1-minute and 1-hour aggregates, computed from the raw points on a schedule. */
@Module({ imports: [InfluxModule, StatsModule, BackpressureModule], providers: [DownsamplerService, BackfillMarks], exports: [DownsamplerService, BackfillMarks] })
export class DownsampleModule {}
