import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { DashboardMetricsService } from './dashboard-metrics.service.js';
import { DashboardController } from './dashboard.controller.js';
import { DashboardService } from './dashboard.service.js';

/** The dashboard's overview (registry, alerting, ingest), fleet series and agent summary (ingest, cached in Redis). */
@Module({ imports: [MetricsModule], controllers: [DashboardController], providers: [DashboardService, DashboardMetricsService] })
export class DashboardModule {}
