import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditLogEntity } from './audit-log.entity.js';
import { AuditLogStore } from './audit-log.store.js';
import { AuditRecorder } from './audit-recorder.service.js';
import { AuditConsumer } from './audit-consumer.service.js';
import { AuditController } from './audit.controller.js';

/** The audit log: recording this service's facts, storing everyone's, and reading them back. */
@Module({
  imports: [TypeOrmModule.forFeature([AuditLogEntity])],
  providers: [AuditLogStore, AuditRecorder, AuditConsumer],
  controllers: [AuditController],
  exports: [AuditRecorder],
})
export class AuditModule {}
