import { Module } from '@nestjs/common';
import { StatsModule } from '../stats/stats.module.js';
import { LatestValuesService } from './latest-values.service.js';

/** The latest value of each field per agent, kept in Redis by the accept path, read by the live views. */
@Module({ imports: [StatsModule], providers: [LatestValuesService], exports: [LatestValuesService] })
export class LatestModule {}
