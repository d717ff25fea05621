import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AlertEventPublisher } from './alert-event.publisher.js';
import { AlertStateService } from './alert-state.service.js';
import { AlertsService } from './alerts.service.js';
import { AlertsRpcController } from './alerts-rpc.controller.js';

/** Alert instances: their lifecycle in PostgreSQL, their events, and the queries on them. */
@Module({
  imports: [AuditModule],
  providers: [AlertEventPublisher, AlertStateService, AlertsService],
  controllers: [AlertsRpcController],
  exports: [AlertStateService, AlertEventPublisher],
})
export class AlertsModule {}
