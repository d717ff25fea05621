import { Controller, Get, Header, HttpException, Inject, Module, type DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { serviceHealth, type DependencyCheck } from './health.js';

export const DEPENDENCY_CHECKS = Symbol('DEPENDENCY_CHECKS');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
export const SERVICE_INFO = Symbol('SERVICE_INFO');
export interface ServiceInfo {
  name: string;
  version: string;
}

/** /health/live, /health/ready and /metrics, the same on every service. */
@Controller()
export class HealthController {
  constructor(
    @Inject(DEPENDENCY_CHECKS) private readonly checks: DependencyCheck[],
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
  ) {}

  @Get('health/live')
  live() {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready() {
    const health = await serviceHealth(this.info.name, this.info.version, this.checks);
    if (health.status !== 'ok') {
      throw new HttpException({ statusCode: 503, error: 'Service Unavailable', message: 'not ready', ...health }, 503);
    }
    return health;
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics() {
    return this.registry.metrics();
  }
}

@Module({})
export class HealthModule {
  /**
   * `checks` is a provider token resolving to DependencyCheck[]; the service module provides it
   * so the checks can use the service's own connections.
   */
  static forRoot(opts: { info: ServiceInfo; registry: Registry; checksProvider: { provide: symbol | string; useFactory: (...args: any[]) => DependencyCheck[]; inject?: any[] } }): DynamicModule {
    return {
      module: HealthModule,
      global: true,
      controllers: [HealthController],
      providers: [
        { provide: METRICS_REGISTRY, useValue: opts.registry },
        { provide: SERVICE_INFO, useValue: opts.info },
        { ...opts.checksProvider, provide: DEPENDENCY_CHECKS },
      ],
      exports: [METRICS_REGISTRY, SERVICE_INFO, DEPENDENCY_CHECKS],
    };
  }
}
