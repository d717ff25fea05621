import { Module } from '@nestjs/common';
import { Redis } from 'ioredis';
import { redisTlsOptions } from '@agentmon/config';
import { INGEST_CONFIG, type IngestConfig } from '../config.js';
import { INGEST_REDIS, IngestStatsService } from './ingest-stats.service.js';

/** Ingest rates shared by the replicas (Redis). */
@Module({
  providers: [
    {
      provide: INGEST_REDIS,
      inject: [INGEST_CONFIG],
      useFactory: (config: IngestConfig) =>
        new Redis(config.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true, connectionName: 'agentmon-ingest', ...redisTlsOptions(config) }),
    },
    IngestStatsService,
  ],
  exports: [IngestStatsService, INGEST_REDIS],
})
export class StatsModule {}
