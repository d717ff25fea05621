import { Module } from '@nestjs/common';
import { AlertRulesController } from './alert-rules.controller.js';
import { AlertsController } from './alerts.controller.js';

/** Alert rules and alerts (alerting service); an alert's notification attempts (notification service). */
@Module({
  // AlertRulesController first: /alerts/rules must win over /alerts/:id
  controllers: [AlertRulesController, AlertsController],
})
export class AlertsModule {}
