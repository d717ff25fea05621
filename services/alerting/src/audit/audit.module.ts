import { Module } from '@nestjs/common';
import { AuditOutboxService } from './audit-outbox.service.js';

@Module({ providers: [AuditOutboxService], exports: [AuditOutboxService] })
export class AuditModule {}
