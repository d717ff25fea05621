import { Module } from '@nestjs/common';
import { AgentsController } from './agents.controller.js';
import { AgentsService } from './agents.service.js';
import { TelemetryConsumer } from './telemetry.consumer.js';
import { OfflineSweeper } from './offline-sweeper.js';
import { OutboxPublisher } from '../outbox/outbox.publisher.js';
import { RegistryMetrics } from '../metrics/registry-metrics.js';

@Module({
  controllers: [AgentsController],
  providers: [AgentsService, TelemetryConsumer, OfflineSweeper, OutboxPublisher, RegistryMetrics],
})
export class AgentsModule {}
