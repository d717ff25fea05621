import type { ServiceHealth, ServiceName } from '@agentmon/contracts';
import { summarize, type ServiceStatus } from './system-health.service.js';

const answer = (service: ServiceName, checks: ServiceHealth['checks'], status: ServiceHealth['status'] = 'ok') => ({
  status: { status, latency_ms: 3 } as ServiceStatus,
  health: { service, status, version: '0.1.0', uptime_s: 10, checks },
});
const ok = (latency_ms = 1) => ({ status: 'ok' as const, latency_ms });
const down = { status: 'down' as const, latency_ms: 1500, error: 'timeout' };
const unreachable = { status: { status: 'down', latency_ms: 1500, error: 'the ingest service is not running' } as ServiceStatus };

function allUp() {
  return new Map<ServiceName, ReturnType<typeof answer> | typeof unreachable>([
    ['gateway', answer('gateway', { redis: ok(2), nats: ok() })],
    ['auth', answer('auth', { postgres: ok(4), nats: ok() })],
    ['registry', answer('registry', { postgres: ok(7), nats: ok() })],
    ['ingest', answer('ingest', { influxdb: ok(9), redis: ok(), nats: ok() })],
    ['alerting', answer('alerting', { postgres: ok(), redis: ok(), nats: ok() })],
    ['notification', answer('notification', { postgres: ok(), nats: ok() })],
  ]);
}

describe('summarize', () => {
  it('is ok when every service and dependency is', () => {
    const h = summarize(allUp());
    expect(h.status).toBe('ok');
    expect(Object.keys(h.services).sort()).toEqual(['alerting', 'auth', 'gateway', 'ingest', 'notification', 'registry']);
    expect(h.dependencies.postgres).toEqual({ status: 'ok', latency_ms: 7, reported_by: ['auth', 'registry', 'alerting', 'notification'] });
    expect(h.dependencies.influxdb).toEqual({ status: 'ok', latency_ms: 9, reported_by: ['ingest'] });
  });

  it('is degraded when one service does not answer, and names what is unknown', () => {
    const reports = allUp();
    reports.set('ingest', unreachable);
    const h = summarize(reports);
    expect(h.status).toBe('degraded');
    expect(h.services.ingest).toEqual({ status: 'down', latency_ms: 1500, error: 'the ingest service is not running' });
    expect(h.dependencies.influxdb).toEqual({ status: 'unknown', latency_ms: null, reported_by: [] });
  });

  it('marks a dependency degraded when only some services reach it', () => {
    const reports = allUp();
    reports.set('registry', answer('registry', { postgres: down, nats: ok() }, 'degraded'));
    const h = summarize(reports);
    expect(h.dependencies.postgres.status).toBe('degraded');
    expect(h.services.registry.status).toBe('degraded');
    expect(h.status).toBe('degraded');
  });

  it('is down when no service answers', () => {
    const reports = allUp();
    for (const s of ['auth', 'registry', 'ingest', 'alerting', 'notification'] as const) reports.set(s, unreachable);
    expect(summarize(reports).status).toBe('down');
  });
});
