import { Module } from '@nestjs/common';
import { AgentsController } from './agents.controller.js';
import { AgentsService } from './agents.service.js';
import { TelemetryConsumer } from './telemetry.consumer.js';
import { OfflineSweeper } from './offline-sweeper.js';
import { OutboxPublisher } from '../outbox/outbox.publisher.js';

@Module({
  controllers: [AgentsController],
  providers: [AgentsService, TelemetryConsumer, OfflineSweeper, OutboxPublisher],
})
export class AgentsModule {}
