import { Module } from '@nestjs/common';
import { influxTls } from '@agentmon/config';
import { INGEST_CONFIG, type IngestConfig } from '../config.js';
import { InfluxClient } from './influx.client.js';
import { InfluxSchemaService } from './influx-schema.service.js';
import { InfluxWriterService } from './influx-writer.service.js';
import { OwnLines } from './own-lines.js';

/** InfluxDB: the v1 HTTP client, the schema migrations and the writer fed by JetStream (with the lines ingest compressed, OwnLines). */
@Module({
  providers: [
    {
      provide: InfluxClient,
      inject: [INGEST_CONFIG],
      useFactory: (config: IngestConfig) =>
        new InfluxClient({
          url: config.INFLUX_URL,
          database: config.INFLUX_DATABASE,
          ...(config.INFLUX_USERNAME ? { username: config.INFLUX_USERNAME } : {}),
          ...(config.INFLUX_PASSWORD ? { password: config.INFLUX_PASSWORD } : {}),
          tls: influxTls(config),
        }),
    },
    InfluxSchemaService,
    InfluxWriterService,
    { provide: OwnLines, inject: [INGEST_CONFIG], useFactory: (config: IngestConfig) => new OwnLines(config.WRITER_OWN_LINES_BYTES) },
  ],
  exports: [InfluxClient, InfluxSchemaService, OwnLines],
})
export class InfluxModule {}
