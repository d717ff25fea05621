import { Module } from '@nestjs/common';
import { InfluxModule } from '../influx/influx.module.js';
import { LatestModule } from '../latest/latest.module.js';
import { StatsModule } from '../stats/stats.module.js';
import { AggregateService } from './aggregate.service.js';
import { HistoricalService } from './historical.service.js';
import { QueriesController } from './queries.controller.js';

@Module({ imports: [InfluxModule, StatsModule, LatestModule], controllers: [QueriesController], providers: [HistoricalService, AggregateService] })
export class QueriesModule {}
