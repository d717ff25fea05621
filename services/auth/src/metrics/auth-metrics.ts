import { Inject, Injectable, Module } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@agentmon/observability';

/** Counters for /metrics: how authentication attempts end, to alert on brute force or replay. */
@Injectable()
export class AuthMetrics {
  readonly logins: Counter<'outcome'>;
  readonly refreshes: Counter<'outcome'>;
  readonly apiKeyVerifications: Counter<'outcome'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.logins = new Counter({
      name: 'agentmon_auth_logins_total',
      help: 'Login attempts by outcome (success, bad_credentials, inactive)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    this.refreshes = new Counter({
      name: 'agentmon_auth_refreshes_total',
      help: 'Refresh attempts by outcome (success, invalid, reused, user_inactive)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    this.apiKeyVerifications = new Counter({
      name: 'agentmon_auth_api_key_verifications_total',
      help: 'API key verifications by outcome (success, unknown, expired, revoked, owner_inactive)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
  }
}

@Module({ providers: [AuthMetrics], exports: [AuthMetrics] })
export class AuthMetricsModule {}
