import { AlertRuleEntity } from './rules/alert-rule.entity.js';
import { AlertInstanceEntity } from './alerts/alert-instance.entity.js';
import { AuditOutboxEntity } from './audit/audit-outbox.entity.js';

export const ENTITIES = [AlertRuleEntity, AlertInstanceEntity, AuditOutboxEntity];
