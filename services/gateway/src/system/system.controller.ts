import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Access } from '../access/access.decorator.js';
import { SystemHealthService } from './system-health.service.js';

@ApiTags('system')
@Controller('system')
export class SystemController {
  constructor(@Inject(SystemHealthService) private readonly health: SystemHealthService) {}

  @Get('health')
  @Access('read')
  @ApiOperation({
    summary: 'Health of every service and shared dependency',
    description:
      '`{status: ok|degraded|down, services: {NAME: {status, latency_ms, version?, error?}}, dependencies: {postgres, redis, nats, influxdb: {status: ok|degraded|down|unknown, latency_ms, reported_by}}, checked_at}`. ' +
      'Always 200: the body says what is wrong.',
  })
  @ApiResponse({ status: 200, description: 'the health picture' })
  get() {
    return this.health.gather();
  }
}
