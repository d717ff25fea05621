import type { CheckResult, ServiceHealth } from '@agentmon/contracts';

/** A readiness check of one dependency; it throws when the dependency is not usable. */
export interface DependencyCheck {
  name: string;
  check(): Promise<void>;
}

const started = Date.now();

export async function runChecks(checks: DependencyCheck[], timeoutMs = 2000): Promise<Record<string, CheckResult>> {
  const results = await Promise.all(
    checks.map(async (c): Promise<[string, CheckResult]> => {
      const t0 = performance.now();
      try {
        await withTimeout(c.check(), timeoutMs, `${c.name} check timed out after ${timeoutMs} ms`);
        return [c.name, { status: 'ok', latency_ms: round(performance.now() - t0) }];
      } catch (err) {
        return [c.name, { status: 'down', latency_ms: round(performance.now() - t0), error: (err as Error).message }];
      }
    }),
  );
  return Object.fromEntries(results);
}

export async function serviceHealth(service: string, version: string, checks: DependencyCheck[]): Promise<ServiceHealth> {
  const results = await runChecks(checks);
  const down = Object.values(results).filter((r) => r.status === 'down').length;
  return {
    service,
    status: down === 0 ? 'ok' : down === checks.length ? 'down' : 'degraded',
    version,
    uptime_s: Math.round((Date.now() - started) / 1000),
    checks: results,
  };
}

function round(n: number) {
  return Math.round(n * 100) / 100;
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
