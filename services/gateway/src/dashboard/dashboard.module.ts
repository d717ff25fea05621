import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller.js';
import { DashboardService } from './dashboard.service.js';

/** The dashboard's overview, gathered from registry, alerting and ingest. */
@Module({ controllers: [DashboardController], providers: [DashboardService] })
export class DashboardModule {}
