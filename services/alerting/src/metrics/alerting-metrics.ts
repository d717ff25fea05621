import { Global, Inject, Injectable, Module } from '@nestjs/common';
import { Counter, Histogram, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@agentmon/observability';

/** The service's own Prometheus series (on /metrics next to the process defaults). */
@Injectable()
export class AlertingMetrics {
  readonly batches: Counter<'outcome'>;
  readonly batchSeconds: Histogram;
  readonly pointsDecoded: Counter;
  readonly evaluations: Counter;
  readonly transitions: Counter<'kind'>;
  readonly eventsPublished: Counter<'event'>;
  readonly publishFailures: Counter;
  readonly ticks: Counter<'outcome'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.batches = new Counter({
      name: 'agentmon_alerting_batches_total',
      help: 'Telemetry batches evaluated, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.batchSeconds = new Histogram({
      name: 'agentmon_alerting_batch_duration_seconds',
      help: 'Time to evaluate one telemetry batch',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    });
    this.pointsDecoded = new Counter({
      name: 'agentmon_alerting_points_decoded_total',
      help: 'Telemetry points decoded for evaluation (only measurements some enabled rule reads are decoded)',
      registers: [registry],
    });
    this.evaluations = new Counter({
      name: 'agentmon_alerting_rule_evaluations_total',
      help: 'Rule conditions evaluated for one agent',
      registers: [registry],
    });
    this.transitions = new Counter({
      name: 'agentmon_alerting_alert_transitions_total',
      help: 'Alert state changes, by kind (open, promote, resolve, close)',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.eventsPublished = new Counter({
      name: 'agentmon_alerting_events_published_total',
      help: 'Alert events stored on JetStream, by event',
      labelNames: ['event'],
      registers: [registry],
    });
    this.publishFailures = new Counter({
      name: 'agentmon_alerting_event_publish_failures_total',
      help: 'Alert event publishes that failed and wait for the tick',
      registers: [registry],
    });
    this.ticks = new Counter({
      name: 'agentmon_alerting_ticks_total',
      help: 'Evaluation ticks, by outcome (ran, skipped: another replica holds the lock, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }
}

@Global()
@Module({ providers: [AlertingMetrics], exports: [AlertingMetrics] })
export class AlertingMetricsModule {}
