import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Access } from '../access/access.decorator.js';
import { DashboardService } from './dashboard.service.js';

@ApiTags('dashboard')
@Controller('dashboard')
export class DashboardController {
  constructor(@Inject(DashboardService) private readonly dashboard: DashboardService) {}

  @Get('overview')
  @Access('read')
  @ApiOperation({
    summary: 'Agents by status, firing alerts by severity, ingest rate',
    description:
      '`{agents: {total, online, offline, degraded} | null, alerts: {firing, pending, by_severity: {critical, warning, info}} | null, ' +
      'ingest: {points_per_second, requests_per_second} | null, unavailable: [service], generated_at}`. A part is null when its service does not answer.',
  })
  @ApiResponse({ status: 200, description: 'the overview' })
  overview() {
    return this.dashboard.overview();
  }
}
