import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { EventBus } from '@agentmon/messaging';
import { AgentsService } from './agents.service.js';

/** The durable consumer of the agents of accepted telemetry, shared by every registry replica. */
export const AGENTS_DURABLE = 'registry-agents';
/** Its predecessor, which read whole batches of points (`evt.ingest.telemetry.batch.v1`). */
const RETIRED_DURABLES = ['registry-heartbeats'];
/**
 * Messages written with one transaction at most, and how long the first of them waits for others.
 * The wait only delays last_seen, which the write throttle lets lag far more anyway.
 */
const MAX_BATCH = 256;
const MAX_WAIT_MS = 100;

/**
 * Every accepted telemetry batch is a heartbeat of the agents in it. The registry reads only the
 * small agents message ingest publishes with each batch (`evt.ingest.telemetry.agents.v1`), never
 * the points, with its own durable consumer, so ingest never waits for it and nothing is missed
 * while the registry restarts. The messages that arrive together (up to MAX_BATCH, within
 * MAX_WAIT_MS of the first) are written with one transaction and one statement, and acknowledged
 * once it is committed: at a steady rate the database round trips and the acks cost per batch, not
 * per message.
 *
 * Every replica also follows the registry's own status events, so that an agent whose status
 * another replica changed (the offline sweep) is written again at its next telemetry instead of
 * waiting for its write throttle.
 */
@Injectable()
export class TelemetryConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    private readonly agents: AgentsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.retireConsumers('TELEMETRY', RETIRED_DURABLES);
    await this.bus.follow({
      subjects: ['evt.registry.agent.status-changed.v1'],
      handler: (change) => this.agents.statusObserved(change.agent_id, change.to),
      onGap: () => this.agents.forgetWrittenAgents(),
    });
    await this.bus.consumeBatches({
      durable: AGENTS_DURABLE,
      subjects: ['evt.ingest.telemetry.agents.v1'],
      maxBatch: MAX_BATCH,
      maxWaitMs: MAX_WAIT_MS,
      // the next batches arrive while one is written, so a backlog is written in full batches
      maxAckPending: 4 * MAX_BATCH,
      handler: async (items) => {
        await this.agents.recordTelemetryBatch(items.map((i) => i.payload));
      },
    });
  }
}

