import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { DownsampleModule } from '../downsample/downsample.module.js';
import { InfluxModule } from '../influx/influx.module.js';
import { LatestModule } from '../latest/latest.module.js';
import { StatsModule } from '../stats/stats.module.js';
import { FieldTypesService } from './field-types.service.js';
import { IngestController } from './ingest.controller.js';
import { IngestService } from './ingest.service.js';
import { OtlpController } from '../otlp/otlp.controller.js';

/** The accept path: agent push in JSON, line protocol and OTLP/HTTP, into the TELEMETRY stream. */
@Module({ imports: [AuthModule, StatsModule, InfluxModule, LatestModule, DownsampleModule], controllers: [IngestController, OtlpController], providers: [IngestService, FieldTypesService] })
export class IngestModule {}
