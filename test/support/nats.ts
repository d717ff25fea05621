import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { STREAMS } from '@agentmon/contracts';

/** Deletes agentmon's streams (and so their consumers) on the test NATS server. */
export async function resetStreams(natsUrl: string): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    for (const s of Object.values(STREAMS)) {
      await jsm.streams.delete(s.name).catch(() => undefined);
    }
  } finally {
    await nc.close();
  }
}
