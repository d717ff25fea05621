import { Module } from '@nestjs/common';
import { SystemController } from './system.controller.js';
import { SystemHealthService } from './system-health.service.js';

/** The platform's health, gathered from every service. */
@Module({
  controllers: [SystemController],
  providers: [SystemHealthService],
  exports: [SystemHealthService],
})
export class SystemModule {}
