import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';

/** Metric queries, answered by the ingest service from InfluxDB. */
@Module({ controllers: [MetricsController] })
export class MetricsModule {}
