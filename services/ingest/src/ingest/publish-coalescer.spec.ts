import { TelemetryBatchSchema, type AgentInfo, type TelemetryBatch } from '@agentmon/contracts';
import { PublishCoalescer, type CoalescedPart } from './publish-coalescer.js';

interface Publish {
  messages: { data: Buffer; msgId: string }[];
  resolve: () => void;
  reject: (err: Error) => void;
}

function harness(maxMessageBytes = 1024 * 1024, maxWaitingBytes?: number) {
  const publishes: Publish[] = [];
  const coalescer = new PublishCoalescer(
    (messages) => new Promise<void>((resolve, reject) => publishes.push({ messages, resolve, reject })),
    () => maxMessageBytes,
    maxWaitingBytes,
  );
  const decoded = (i: number): TelemetryBatch[] => publishes[i]!.messages.map((m) => TelemetryBatchSchema.parse(JSON.parse(m.data.toString())));
  return { coalescer, publishes, decoded };
}

function part(agent: AgentInfo, values: number[], receivedAt = 1000, source: CoalescedPart['source'] = 'json'): CoalescedPart {
  const encoded = values.map((v) => JSON.stringify({ agent_id: agent.id, measurement: 'm', tags: {}, fields: { v }, time: receivedAt + v }));
  return { source, receivedAt, agents: [agent], encoded, bytes: encoded.reduce((n, e) => n + e.length * 3, 0) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('PublishCoalescer', () => {
  it('publishes a lone request at once, as its own message', async () => {
    const { coalescer, publishes, decoded } = harness();
    let done = false;
    const p = coalescer.submit(part({ id: 'a1', name: 'A' }, [1, 2])).then(() => (done = true));
    await tick();
    expect(publishes).toHaveLength(1);
    expect(decoded(0)).toEqual([expect.objectContaining({ chunk: 0, chunks: 1, received_at: 1000, source: 'json', agents: [{ id: 'a1', name: 'A' }] })]);
    expect(decoded(0)[0]!.points.map((x) => x.fields.v)).toEqual([1, 2]);
    expect(done).toBe(false); // answered only once JetStream stored it
    publishes[0]!.resolve();
    await p;
    expect(done).toBe(true);
  });

  it('puts the requests that arrive during a publish into one message, answered when it is stored', async () => {
    const { coalescer, publishes, decoded } = harness();
    const first = coalescer.submit(part({ id: 'a1' }, [1]));
    await tick();
    const later = [coalescer.submit(part({ id: 'a2', version: '1' }, [2], 990)), coalescer.submit(part({ id: 'a3' }, [3, 4], 995)), coalescer.submit(part({ id: 'a2', version: '2' }, [5], 999))];
    let laterDone = 0;
    for (const l of later) void l.then(() => laterDone++);
    await tick();
    expect(publishes).toHaveLength(1); // they wait for the publish under way
    publishes[0]!.resolve();
    await first;
    await tick();
    expect(publishes).toHaveLength(2);
    const [msg] = decoded(1);
    expect(decoded(1)).toHaveLength(1);
    expect(msg!.points.map((x) => [x.agent_id, x.fields.v])).toEqual([
      ['a2', 2],
      ['a3', 3],
      ['a3', 4],
      ['a2', 5],
    ]);
    // an agent named twice keeps what it said last; the batch's receipt time is the earliest
    expect(msg!.agents).toEqual([{ id: 'a2', version: '2' }, { id: 'a3' }]);
    expect(msg!.received_at).toBe(990);
    expect(laterDone).toBe(0);
    publishes[1]!.resolve();
    await Promise.all(later);
    expect(laterDone).toBe(3);
  });

  it('fails every request of a message that could not be stored, and goes on with the next ones', async () => {
    const { coalescer, publishes } = harness();
    const first = coalescer.submit(part({ id: 'a1' }, [1]));
    await tick();
    const second = coalescer.submit(part({ id: 'a2' }, [2]));
    const third = coalescer.submit(part({ id: 'a3' }, [3]));
    publishes[0]!.resolve();
    await first;
    await tick();
    const next = coalescer.submit(part({ id: 'a4' }, [4]));
    publishes[1]!.reject(new Error('JetStream is away'));
    await expect(second).rejects.toThrow('JetStream is away');
    await expect(third).rejects.toThrow('JetStream is away');
    await tick();
    expect(publishes).toHaveLength(3);
    publishes[2]!.resolve();
    await expect(next).resolves.toBeUndefined();
  });

  it('keeps formats apart', async () => {
    const { coalescer, publishes, decoded } = harness();
    void coalescer.submit(part({ id: 'a1' }, [1], 1000, 'json'));
    void coalescer.submit(part({ id: 'a2' }, [2], 1000, 'line'));
    await tick();
    expect(publishes).toHaveLength(2);
    expect([decoded(0)[0]!.source, decoded(1)[0]!.source]).toEqual(['json', 'line']);
  });

  it('sends waiting requests without waiting any longer once they hold maxWaitingBytes', async () => {
    const { coalescer, publishes } = harness(1024 * 1024, 2_000);
    void coalescer.submit(part({ id: 'a1' }, [1]));
    await tick();
    for (let i = 0; i < 30; i++) void coalescer.submit(part({ id: `b${i}` }, [i]));
    await tick();
    expect(publishes.length).toBeGreaterThan(2);
  });

  it('splits a merged message that would be larger than a stream message, with one message id each', async () => {
    const { coalescer, publishes, decoded } = harness(4096);
    void coalescer.submit(part({ id: 'a0' }, [0]));
    await tick();
    const waiting = Array.from({ length: 20 }, (_, i) => coalescer.submit(part({ id: `a${i + 1}` }, Array.from({ length: 5 }, (_, k) => i * 10 + k))));
    publishes[0]!.resolve();
    await tick();
    await tick();
    const batches = decoded(1);
    expect(batches.length).toBeGreaterThan(1);
    expect(new Set(publishes[1]!.messages.map((m) => m.msgId)).size).toBe(batches.length);
    for (const m of publishes[1]!.messages) expect(m.data.length).toBeLessThanOrEqual(4096);
    expect(batches.flatMap((b) => b.points)).toHaveLength(100);
    publishes[1]!.resolve();
    await Promise.all(waiting);
  });
});
