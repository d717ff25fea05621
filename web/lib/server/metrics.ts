import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of the dashboard server. Next.js bundles each route on its own, so the
 * registry lives on globalThis to be shared by the proxy route and the /metrics route.
 */
interface WebMetrics {
  registry: Registry;
  proxyRequests: Counter<'method' | 'status'>;
  proxyDuration: Histogram<'method'>;
}

const KEY = Symbol.for('agentmon.web.metrics');
type GlobalWithMetrics = typeof globalThis & { [KEY]?: WebMetrics };

export function webMetrics(): WebMetrics {
  const g = globalThis as GlobalWithMetrics;
  let m = g[KEY];
  if (!m) {
    const registry = new Registry();
    registry.setDefaultLabels({ service: 'web' });
    collectDefaultMetrics({ register: registry });
    m = {
      registry,
      proxyRequests: new Counter({
        name: 'agentmon_web_proxy_requests_total',
        help: 'Requests the dashboard proxied to the gateway, by method and status',
        labelNames: ['method', 'status'],
        registers: [registry],
      }),
      proxyDuration: new Histogram({
        name: 'agentmon_web_proxy_request_duration_seconds',
        help: 'Time to the gateway answer for proxied requests',
        labelNames: ['method'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [registry],
      }),
    };
    g[KEY] = m;
  }
  return m;
}

export function recordProxyRequest(method: string, status: number, durationMs: number): void {
  const m = webMetrics();
  m.proxyRequests.inc({ method, status: String(status) });
  m.proxyDuration.observe({ method }, durationMs / 1000);
}
