import { Inject, Injectable } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@agentmon/observability';

/** The registry's own Prometheus series (on /metrics next to the process defaults). */
@Injectable()
export class RegistryMetrics {
  /** telemetry agents messages recorded; with the transactions (counted together), how well batching pays */
  readonly telemetryMessages: Counter;
  readonly heartbeatTransactions: Counter;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.telemetryMessages = new Counter({
      name: 'agentmon_registry_telemetry_messages_total',
      help: 'Telemetry agents messages (evt.ingest.telemetry.agents.v1) whose heartbeats were recorded',
      registers: [registry],
    });
    this.heartbeatTransactions = new Counter({
      name: 'agentmon_registry_heartbeat_transactions_total',
      help: 'Committed transactions that wrote heartbeats from telemetry (one per batch of messages with an agent due a write)',
      registers: [registry],
    });
  }
}
