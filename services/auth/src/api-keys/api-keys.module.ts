import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { UsersModule } from '../users/users.module.js';
import { AuthMetricsModule } from '../metrics/auth-metrics.js';
import { RevocationsModule } from '../revocations/revocations.module.js';
import { ApiKeyEntity } from './api-key.entity.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeysController } from './api-keys.controller.js';

@Module({
  imports: [TypeOrmModule.forFeature([ApiKeyEntity]), UsersModule, AuditModule, AuthMetricsModule, RevocationsModule],
  providers: [ApiKeysService],
  controllers: [ApiKeysController],
})
export class ApiKeysModule {}
