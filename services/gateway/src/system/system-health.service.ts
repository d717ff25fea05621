import { Inject, Injectable } from '@nestjs/common';
import {
  DEPENDENCY_NAMES,
  SERVICE_NAMES,
  healthSubject,
  type CheckResult,
  type DependencyName,
  type ServiceHealth,
  type ServiceName,
} from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { DEPENDENCY_CHECKS, SERVICE_INFO, serviceHealth, type DependencyCheck, type ServiceInfo } from '@agentmon/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';

export type Status = 'ok' | 'degraded' | 'down';
export interface ServiceStatus {
  status: Status;
  latency_ms: number;
  version?: string;
  error?: string;
}
export interface DependencyStatus {
  status: Status | 'unknown';
  /** slowest check among the services that use it; null when none answered */
  latency_ms: number | null;
  /** the services whose checks this is made of */
  reported_by: ServiceName[];
}
export interface SystemHealth {
  status: Status;
  services: Record<ServiceName, ServiceStatus>;
  dependencies: Record<DependencyName, DependencyStatus>;
  checked_at: string;
}

/**
 * The platform's health: each service answers `rpc.<service>.health.v1` with its own dependencies
 * (asked in parallel with a short timeout); the gateway adds its own Redis and NATS checks.
 */
@Injectable()
export class SystemHealthService {
  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(DEPENDENCY_CHECKS) private readonly ownChecks: DependencyCheck[],
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async gather(): Promise<SystemHealth> {
    const others = SERVICE_NAMES.filter((s): s is Exclude<ServiceName, 'gateway'> => s !== 'gateway');
    const t0 = performance.now();
    const [own, ...answers] = await Promise.all([
      serviceHealth(this.info.name, this.info.version, this.ownChecks),
      ...others.map((svc) => this.ask(svc)),
    ]);
    const reports = new Map<ServiceName, { status: ServiceStatus; health?: ServiceHealth }>();
    reports.set('gateway', { status: { status: own.status, latency_ms: round(performance.now() - t0), version: own.version }, health: own });
    others.forEach((svc, i) => reports.set(svc, answers[i]!));
    return summarize(reports);
  }

  private async ask(svc: Exclude<ServiceName, 'gateway'>): Promise<{ status: ServiceStatus; health?: ServiceHealth }> {
    const t0 = performance.now();
    try {
      const health = await this.rpc.request(healthSubject(svc), {}, { timeoutMs: this.config.HEALTH_RPC_TIMEOUT_MS });
      return { status: { status: health.status, latency_ms: round(performance.now() - t0), version: health.version }, health };
    } catch (err) {
      return { status: { status: 'down', latency_ms: round(performance.now() - t0), error: (err as Error).message } };
    }
  }
}

/** Folds the services' answers into one picture (exported for its unit test). */
export function summarize(reports: Map<ServiceName, { status: ServiceStatus; health?: ServiceHealth }>): SystemHealth {
  const services = Object.fromEntries(SERVICE_NAMES.map((s) => [s, reports.get(s)?.status ?? { status: 'down', latency_ms: 0, error: 'not asked' }])) as Record<
    ServiceName,
    ServiceStatus
  >;
  const dependencies = Object.fromEntries(
    DEPENDENCY_NAMES.map((dep) => {
      const seen: { by: ServiceName; check: CheckResult }[] = [];
      for (const [svc, r] of reports) {
        const check = r.health?.checks[dep];
        if (check) seen.push({ by: svc, check });
      }
      if (seen.length === 0) return [dep, { status: 'unknown', latency_ms: null, reported_by: [] } satisfies DependencyStatus];
      const down = seen.filter((s) => s.check.status === 'down').length;
      const status: Status = down === 0 ? 'ok' : down === seen.length ? 'down' : 'degraded';
      return [dep, { status, latency_ms: Math.max(...seen.map((s) => s.check.latency_ms)), reported_by: seen.map((s) => s.by) } satisfies DependencyStatus];
    }),
  ) as Record<DependencyName, DependencyStatus>;
  const others = SERVICE_NAMES.filter((s) => s !== 'gateway');
  let status: Status;
  if (services.gateway.status === 'down' || others.every((s) => services[s].status === 'down')) status = 'down';
  else if (SERVICE_NAMES.every((s) => services[s].status === 'ok') && DEPENDENCY_NAMES.every((d) => dependencies[d].status === 'ok')) status = 'ok';
  else status = 'degraded';
  return { status, services, dependencies, checked_at: new Date().toISOString() };
}

function round(n: number) {
  return Math.round(n * 100) / 100;
}
