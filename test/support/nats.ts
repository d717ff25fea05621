import { connect } from '@nats-io/transport-node';
import { jetstreamManager, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
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

/**
 * Deletes a durable consumer that a running service uses, as an operator would, and waits until the
 * service has created it again. NATS answers the delete with "unlinkat …: directory not empty" when the
 * service re-creates the consumer while the server still removes the old one's files (the new consumer
 * writes into the same directory); the delete took effect then too, which the new creation time shows.
 */
export async function deleteConsumerUnderService(jsm: JetStreamManager, stream: string, durable: string, timeoutMs = 30_000): Promise<ConsumerInfo> {
  const before = await jsm.consumers.info(stream, durable);
  try {
    await jsm.consumers.delete(stream, durable);
  } catch (err) {
    if (!/directory not empty/.test(String(err))) throw err;
  }
  for (const until = Date.now() + timeoutMs; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
    const again = await jsm.consumers.info(stream, durable).catch(() => null);
    if (again && again.created !== before.created) return again;
  }
  throw new Error(`${durable} on ${stream} was not created again within ${timeoutMs} ms`);
}
