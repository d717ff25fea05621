import type { Provider } from '@nestjs/common';
import { Counter, Histogram, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@agentmon/observability';

export const DELIVERY_METRICS = Symbol('DELIVERY_METRICS');
export interface DeliveryMetrics {
  attempts: Counter<'channel_type' | 'event' | 'status'>;
  gaveUp: Counter<'channel_type'>;
  duration: Histogram<'channel_type'>;
  unknownChannels: Counter;
}

export const deliveryMetricsProvider: Provider = {
  provide: DELIVERY_METRICS,
  inject: [METRICS_REGISTRY],
  useFactory: (registry: Registry): DeliveryMetrics => ({
    attempts: new Counter({
      name: 'agentmon_notification_attempts_total',
      help: 'Notification delivery attempts by channel type, event and outcome',
      labelNames: ['channel_type', 'event', 'status'] as const,
      registers: [registry],
    }),
    gaveUp: new Counter({
      name: 'agentmon_notification_gave_up_total',
      help: 'Notifications abandoned after MAX_ATTEMPTS failed attempts',
      labelNames: ['channel_type'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'agentmon_notification_delivery_duration_seconds',
      help: 'Duration of one delivery attempt',
      labelNames: ['channel_type'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    unknownChannels: new Counter({
      name: 'agentmon_notification_unknown_channels_total',
      help: 'Channel ids named by an alert rule that do not exist (deleted channels)',
      registers: [registry],
    }),
  }),
};
