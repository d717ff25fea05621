// The JetStream publisher behind EventBus.publishRaw, against the real NATS server: it resolves with
// JetStream's acknowledgement only once the message is stored, de-duplicates by Nats-Msg-Id, and
// fails with the errors the JetStream client gives (no stream, JetStream refusing, no answer in time).
import { ClosedConnectionError, TimeoutError, connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { JetStreamPublisher } from '@agentmon/messaging';
import { TEST_INFRA } from '../../../test/support/test-env.js';

const STREAM = 'PUBLISHER_TEST';
const SUBJECT = 'publisher-test.events';

describe('JetStreamPublisher (real NATS JetStream)', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeEach(async () => {
    nc = await connect({ servers: TEST_INFRA.natsUrl });
    jsm = await jetstreamManager(nc);
    await jsm.streams.delete(STREAM).catch(() => undefined);
    await jsm.streams.add({ name: STREAM, subjects: [`${SUBJECT}.>`], duplicate_window: 60_000_000_000 });
  });

  afterEach(async () => {
    await jsm.streams.delete(STREAM).catch(() => undefined);
    await nc.close();
  });

  const withId = (id?: string) => {
    const h = headers();
    if (id) h.set('Nats-Msg-Id', id);
    return h;
  };
  const bytes = (s: string) => new TextEncoder().encode(s);

  it('resolves with the stream and sequence once stored; many at once each get their own acknowledgement', async () => {
    const publisher = new JetStreamPublisher(nc);
    const acks = await Promise.all(Array.from({ length: 50 }, (_, i) => publisher.publish(`${SUBJECT}.a`, bytes(`m${i}`), withId(`a-${i}`))));
    expect(new Set(acks.map((a) => a.stream))).toEqual(new Set([STREAM]));
    expect(acks.map((a) => a.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(acks.every((a) => a.duplicate === false)).toBe(true);
    const info = await jsm.streams.info(STREAM);
    expect(info.state.messages).toBe(50);
    // what is stored is what was sent, headers included
    const stored = await jsm.streams.getMessage(STREAM, { seq: acks.find((a) => a.seq === 1)!.seq });
    expect(stored?.header.get('Nats-Msg-Id')).toMatch(/^a-\d+$/);
    expect(publisher.pending).toBe(0);
  });

  it('a message of an id already stored is acknowledged as a duplicate and stored once', async () => {
    const publisher = new JetStreamPublisher(nc);
    const first = await publisher.publish(`${SUBJECT}.b`, bytes('once'), withId('same-id'));
    const again = await publisher.publish(`${SUBJECT}.b`, bytes('once'), withId('same-id'));
    expect(first.duplicate).toBe(false);
    expect(again).toMatchObject({ duplicate: true, seq: first.seq });
    expect((await jsm.streams.info(STREAM)).state.messages).toBe(1);
  });

  it('fails as the JetStream client does when no stream listens to the subject (JetStreamNotEnabled, "no responders")', async () => {
    const publisher = new JetStreamPublisher(nc);
    await expect(publisher.publish('nobody.stores.this', bytes('x'), withId())).rejects.toMatchObject({ name: 'JetStreamNotEnabled', message: expect.stringMatching(/no responders/) });
  });

  it('fails with the JetStream API error when JetStream refuses the message (a full stream that discards new ones)', async () => {
    await jsm.streams.update(STREAM, { max_msgs: 1, discard: 'new' as never });
    const publisher = new JetStreamPublisher(nc);
    await publisher.publish(`${SUBJECT}.c`, bytes('fits'), withId('c-1'));
    await expect(publisher.publish(`${SUBJECT}.c`, bytes('does not'), withId('c-2'))).rejects.toMatchObject({ name: 'JetStreamApiError', message: expect.stringMatching(/maximum messages/i) });
    expect((await jsm.streams.info(STREAM)).state.messages).toBe(1);
  });

  it('fails with a timeout when nothing acknowledges in time (a plain subscriber that never answers)', async () => {
    const listener = nc.subscribe('publisher-test-silent.x');
    const publisher = new JetStreamPublisher(nc, 300);
    const started = Date.now();
    await expect(publisher.publish('publisher-test-silent.x', bytes('x'), withId())).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(publisher.pending).toBe(0);
    listener.unsubscribe();
  });

  it('fails what waits when the connection closes, and refuses to publish after', async () => {
    const own = await connect({ servers: TEST_INFRA.natsUrl });
    const listener = own.subscribe('publisher-test-silent.y');
    const publisher = new JetStreamPublisher(own, 60_000);
    const waiting = publisher.publish('publisher-test-silent.y', bytes('x'), withId());
    listener.unsubscribe();
    await own.close();
    await expect(waiting).rejects.toBeInstanceOf(ClosedConnectionError);
    await expect(publisher.publish(`${SUBJECT}.d`, bytes('x'), withId())).rejects.toBeInstanceOf(ClosedConnectionError);
  });
});
