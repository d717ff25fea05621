import { z } from 'zod';

export const SERVICE_NAMES = ['gateway', 'ingest', 'alerting', 'auth', 'registry', 'notification'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
export const DEPENDENCY_NAMES = ['postgres', 'redis', 'nats', 'influxdb'] as const;
export type DependencyName = (typeof DEPENDENCY_NAMES)[number];

export const CheckResultSchema = z.object({
  status: z.enum(['ok', 'down']),
  latency_ms: z.number(),
  error: z.string().optional(),
});
export type CheckResult = z.infer<typeof CheckResultSchema>;

/** What each service answers on `rpc.<service>.health.v1`: its own dependencies. */
export const ServiceHealthSchema = z.object({
  service: z.string(),
  status: z.enum(['ok', 'degraded', 'down']),
  version: z.string(),
  uptime_s: z.number(),
  checks: z.record(z.string(), CheckResultSchema),
});
export type ServiceHealth = z.infer<typeof ServiceHealthSchema>;

export const healthRpc = {
  'rpc.auth.health.v1': { request: z.object({}), response: ServiceHealthSchema },
  'rpc.registry.health.v1': { request: z.object({}), response: ServiceHealthSchema },
  'rpc.ingest.health.v1': { request: z.object({}), response: ServiceHealthSchema },
  'rpc.alerting.health.v1': { request: z.object({}), response: ServiceHealthSchema },
  'rpc.notification.health.v1': { request: z.object({}), response: ServiceHealthSchema },
} as const;
export function healthSubject(service: Exclude<ServiceName, 'gateway'>) {
  return `rpc.${service}.health.v1` as const;
}
