import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module.js';
import { AlertsModule } from '../alerts/alerts.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { RulesModule } from '../rules/rules.module.js';
import { AgentStatusConsumer } from './agent-status.consumer.js';
import { EvaluationTick } from './evaluation-tick.service.js';
import { RuleEvaluator } from './rule-evaluator.service.js';
import { EvaluationStore } from './sample-store.js';
import { TelemetryEvaluator } from './telemetry-evaluator.service.js';

/** Rule evaluation: the telemetry consumer, agent status changes, and the periodic tick. */
@Module({
  imports: [RulesModule, AlertsModule, AuditModule, AgentsModule],
  providers: [EvaluationStore, RuleEvaluator, TelemetryEvaluator, AgentStatusConsumer, EvaluationTick],
  exports: [EvaluationTick, TelemetryEvaluator],
})
export class EvaluationModule {}
