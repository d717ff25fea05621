import { Module } from '@nestjs/common';
import { StatsModule } from '../stats/stats.module.js';
import { IngestRateLimits } from './ingest-rate-limits.js';

/** Per-key and per-address rate limits of the ingest port (Redis, shared by the replicas). */
@Module({ imports: [StatsModule], providers: [IngestRateLimits], exports: [IngestRateLimits] })
export class RateLimitModule {}
