import { Module } from '@nestjs/common';
import { InfluxModule } from '../influx/influx.module.js';
import { StatsModule } from '../stats/stats.module.js';
import { HistoricalService } from './historical.service.js';
import { QueriesController } from './queries.controller.js';

@Module({ imports: [InfluxModule, StatsModule], controllers: [QueriesController], providers: [HistoricalService] })
export class QueriesModule {}
