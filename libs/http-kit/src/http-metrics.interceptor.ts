import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { finalize, type Observable } from 'rxjs';
import { httpMetrics } from '@agentmon/observability';

/** Counts HTTP requests and their duration by route template (never by raw path: ids would explode the series). */
export class HttpMetricsInterceptor implements NestInterceptor {
  private readonly metrics;

  constructor(registry: Registry) {
    this.metrics = httpMetrics(registry);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<{ method: string; route?: { path?: string }; routeOptions?: { url?: string } }>();
    const res = http.getResponse<{ statusCode: number }>();
    const started = process.hrtime.bigint();
    return next.handle().pipe(
      finalize(() => {
        const route = req.route?.path ?? req.routeOptions?.url ?? 'unmatched';
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.metrics.requests.inc({ method: req.method, route, status: String(res.statusCode) });
        this.metrics.duration.observe({ method: req.method, route }, seconds);
      }),
    );
  }
}
