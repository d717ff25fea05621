import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';
import { ResponseCache } from './response-cache.js';

/** Metric queries, answered by the ingest service from InfluxDB, with short Redis caching. */
@Module({ controllers: [MetricsController], providers: [ResponseCache], exports: [ResponseCache] })
export class MetricsModule {}
