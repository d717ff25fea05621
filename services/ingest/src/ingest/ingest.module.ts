import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { DownsampleModule } from '../downsample/downsample.module.js';
import { InfluxModule } from '../influx/influx.module.js';
import { LatestModule } from '../latest/latest.module.js';
import { StatsModule } from '../stats/stats.module.js';
import { FieldTypesService } from './field-types.service.js';
import { IngestService } from './ingest.service.js';
import { PushRoutes } from './push-routes.js';

/**
 * The accept path: agent push in JSON, line protocol and OTLP/HTTP, into the TELEMETRY stream. Its
 * routes are Fastify routes (PushRoutes, installed by configureIngestHttp), not Nest controllers.
 */
@Module({ imports: [AuthModule, StatsModule, InfluxModule, LatestModule, DownsampleModule], providers: [IngestService, FieldTypesService, PushRoutes], exports: [PushRoutes] })
export class IngestModule {}
