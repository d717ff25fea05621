import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AlertsModule } from '../alerts/alerts.module.js';
import { AlertRulesService } from './alert-rules.service.js';
import { AlertRulesRpcController } from './alert-rules-rpc.controller.js';
import { RuleCache } from './rule-cache.service.js';

/** Alert rules and the per-replica cache of the enabled ones. */
@Module({
  imports: [AuditModule, AlertsModule],
  providers: [AlertRulesService, RuleCache],
  controllers: [AlertRulesRpcController],
  exports: [RuleCache],
})
export class RulesModule {}
