import { Module, type DynamicModule, type InjectionToken } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { StreamKey } from '@agentmon/contracts';
import { natsTls, postgresConnection } from '@agentmon/config';
import { HealthModule, createMetricsRegistry, type DependencyCheck } from '@agentmon/observability';
import { EventBus, MessagingModule, natsCheck } from '@agentmon/messaging';
import { openDataSource, postgresCheck, type ServiceDataSourceOptions } from '@agentmon/persistence';

type DatabaseServiceConfig = Parameters<typeof natsTls>[0] & Parameters<typeof postgresConnection>[0] & { DATABASE_URL: string; NATS_URL: string };

export interface ServiceDatabaseOptions<C extends DatabaseServiceConfig> {
  service: string;
  version: string;
  config: C;
  logger: Logger;
  /** the tokens under which the service injects its validated config and its logger */
  configToken: InjectionToken;
  loggerToken: InjectionToken;
  entities: ServiceDataSourceOptions['entities'];
  migrations: ServiceDataSourceOptions['migrations'];
  /** the JetStream streams the service publishes to or consumes (created when missing) */
  streams: StreamKey[];
  /** readiness checks beyond PostgreSQL and NATS, made from providers of the service (Redis) */
  extraChecks?: { inject: InjectionToken[]; make: (...deps: never[]) => DependencyCheck[] };
}

/**
 * The modules every service that owns a PostgreSQL database starts with: its config and logger made
 * injectable everywhere, its database (opened and migrated under an advisory lock before anything
 * else starts; a broken database or migration stops the start at once, no retries), NATS with the
 * JetStream streams it uses, and /health, /metrics with readiness checks of PostgreSQL, NATS and
 * whatever `extraChecks` adds. Spread into the service's AppModule imports.
 */
export function serviceDatabaseImports<C extends DatabaseServiceConfig>(opts: ServiceDatabaseOptions<C>): DynamicModule[] {
  const { config, logger, service } = opts;
  const extra = opts.extraChecks;
  return [
    ServiceConfigHolder.forRoot(opts.configToken, config, opts.loggerToken, logger),
    TypeOrmModule.forRootAsync({
      useFactory: () => ({ type: 'postgres', url: config.DATABASE_URL, entities: opts.entities, migrations: opts.migrations, retryAttempts: 0 }),
      dataSourceFactory: async () =>
        openDataSource({ ...postgresConnection(config), entities: opts.entities, migrations: opts.migrations, applicationName: `agentmon-${service}` }),
    }),
    MessagingModule.forRoot({ service, natsUrl: config.NATS_URL, natsTls: natsTls(config), logger, streams: opts.streams }),
    HealthModule.forRoot({
      info: { name: service, version: opts.version },
      registry: createMetricsRegistry(service),
      checksProvider: {
        provide: `${service.toUpperCase()}_CHECKS`,
        inject: [getDataSourceToken(), EventBus, ...(extra?.inject ?? [])],
        useFactory: (ds: DataSource, bus: EventBus, ...deps: unknown[]) => [postgresCheck(ds), ...(extra ? extra.make(...(deps as never[])) : []), natsCheck(bus)],
      },
    }),
  ];
}

/** Makes the validated config and the logger injectable everywhere in the service. */
@Module({})
export class ServiceConfigHolder {
  static forRoot(configToken: InjectionToken, config: unknown, loggerToken: InjectionToken, logger: Logger): DynamicModule {
    return {
      module: ServiceConfigHolder,
      global: true,
      providers: [
        { provide: configToken, useValue: config },
        { provide: loggerToken, useValue: logger },
      ],
      exports: [configToken, loggerToken],
    };
  }
}
