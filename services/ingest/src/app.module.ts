import { Module, type DynamicModule } from '@nestjs/common';
import { natsTls } from '@agentmon/config';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { HealthModule, createMetricsRegistry, type DependencyCheck } from '@agentmon/observability';
import { EventBus, MessagingModule, natsCheck } from '@agentmon/messaging';
import { INGEST_CONFIG, type IngestConfig } from './config.js';
import { LOGGER } from './logger.token.js';
import { AgentsModule } from './agents/agents.module.js';
import { IngestModule } from './ingest/ingest.module.js';
import { InfluxModule } from './influx/influx.module.js';
import { InfluxClient } from './influx/influx.client.js';
import { QueriesModule } from './queries/queries.module.js';
import { BackpressureModule } from './backpressure/backpressure.module.js';
import { DownsampleModule } from './downsample/downsample.module.js';
import { RateLimitModule } from './rate-limit/rate-limit.module.js';
import { INGEST_METRICS, ingestMetrics } from './stats/ingest-metrics.js';
import { IngestStatsService } from './stats/ingest-stats.service.js';
import { StatsModule } from './stats/stats.module.js';
import { HEALTH_RPC_CHECKS, HealthRpcController } from './health-rpc.controller.js';

export const SERVICE_VERSION = '0.1.0';

@Module({})
export class AppModule {
  static forRoot(config: IngestConfig, logger: Logger): DynamicModule {
    const registry = createMetricsRegistry('ingest');
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, logger, registry),
        MessagingModule.forRoot({ service: 'ingest', natsUrl: config.NATS_URL, natsTls: natsTls(config), logger, streams: ['TELEMETRY'] }),
        HealthModule.forRoot({
          info: { name: 'ingest', version: SERVICE_VERSION },
          registry,
          // Ready means "can accept telemetry": that needs JetStream only. InfluxDB being down
          // delays writing, not accepting, so it must not take the replicas out of the load balancer.
          checksProvider: { provide: 'INGEST_READY_CHECKS', inject: [EventBus], useFactory: (bus: EventBus) => [natsCheck(bus)] },
        }),
        InfluxModule,
        StatsModule,
        IngestModule,
        AgentsModule,
        QueriesModule,
        BackpressureModule,
        RateLimitModule,
        DownsampleModule,
      ],
      controllers: [HealthRpcController],
      providers: [
        {
          provide: HEALTH_RPC_CHECKS,
          inject: [EventBus, InfluxClient, IngestStatsService],
          useFactory: (bus: EventBus, influx: InfluxClient, stats: IngestStatsService): DependencyCheck[] => [
            natsCheck(bus),
            { name: 'influxdb', check: () => influx.ping() },
            { name: 'redis', check: () => stats.ping() },
          ],
        },
      ],
    };
  }
}

/** Makes the validated config, the logger and the service's metrics injectable everywhere. */
@Module({})
class CoreModule {
  static forRoot(config: IngestConfig, logger: Logger, registry: Registry): DynamicModule {
    return {
      module: CoreModule,
      global: true,
      providers: [
        { provide: INGEST_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: INGEST_METRICS, useValue: ingestMetrics(registry) },
      ],
      exports: [INGEST_CONFIG, LOGGER, INGEST_METRICS],
    };
  }
}
