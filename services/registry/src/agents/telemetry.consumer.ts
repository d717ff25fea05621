import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { EventBus } from '@agentmon/messaging';
import { AgentsService } from './agents.service.js';

/**
 * Every accepted telemetry batch is a heartbeat of the agents in it. The registry reads the
 * TELEMETRY stream with its own durable consumer, so ingest never waits for it and nothing is
 * missed while the registry restarts.
 */
@Injectable()
export class TelemetryConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    private readonly agents: AgentsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume({
      durable: 'registry-heartbeats',
      subjects: ['evt.ingest.telemetry.batch.v1'],
      maxAckPending: 256,
      handler: async (batch) => {
        const ids = new Set<string>();
        for (const p of batch.points) ids.add(p.agent_id);
        await this.agents.recordTelemetry(batch.agents, [...ids], new Date(batch.received_at));
      },
    });
  }
}
