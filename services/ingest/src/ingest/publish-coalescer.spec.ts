import { jest } from '@jest/globals';
import { TelemetryAgentsSchema, TelemetryLines, encodePoint, type AgentInfo, type StoredPoint, type TelemetryAgents } from '@agentmon/contracts';
import { LINES_SUBJECT } from '@agentmon/contracts';
import { AGENTS_SUBJECT, type StreamMessage } from './batch-chunks.js';
import { PublishCoalescer, type CoalescedPart } from './publish-coalescer.js';

interface Publish {
  messages: StreamMessage[];
  resolve: () => void;
  reject: (err: Error) => void;
}

function harness(maxMessageBytes = 1024 * 1024, maxWaitingBytes?: number, lingerMs?: number) {
  const publishes: Publish[] = [];
  const coalescer = new PublishCoalescer(
    (messages) => new Promise<void>((resolve, reject) => publishes.push({ messages, resolve, reject })),
    () => maxMessageBytes,
    maxWaitingBytes,
    lingerMs,
  );
  /** the points of publish i, over its lines messages */
  const points = (i: number): StoredPoint[] => publishes[i]!.messages.filter((m) => m.subject === LINES_SUBJECT).flatMap((m) => new TelemetryLines(m.data).points());
  /** the agents messages of publish i */
  const agents = (i: number): TelemetryAgents[] =>
    publishes[i]!.messages.filter((m) => m.subject === AGENTS_SUBJECT).map((m) => TelemetryAgentsSchema.parse(JSON.parse(Buffer.from(m.data).toString())));
  return { coalescer, publishes, points, agents };
}

function part(agent: AgentInfo, values: number[], receivedAt = 1000, source: CoalescedPart['source'] = 'json'): CoalescedPart {
  const lines = values.map((v) => encodePoint({ agent_id: agent.id, measurement: 'm', tags: {}, fields: { v }, time: receivedAt + v }));
  return { source, receivedAt, agents: [agent], lines: Buffer.from(lines.join('\n')) };
}

const tick = () => new Promise((r) => setImmediate(r));
/**
 * For the tests of lingerMs: the clock (setTimeout, performance.now) moves only when a test moves it,
 * so a slow or busy machine cannot stretch the moments between two calls past lingerMs; setImmediate
 * (tick) stays real
 */
const fakeClock = () => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
afterEach(() => jest.useRealTimers());

describe('PublishCoalescer', () => {
  it('publishes a lone request at once, as its own message', async () => {
    const { coalescer, publishes, points, agents } = harness();
    let done = false;
    const p = coalescer.submit(part({ id: 'a1', name: 'A' }, [1, 2])).then(() => (done = true));
    await tick();
    expect(publishes).toHaveLength(1);
    // one lines message and one agents message, of one batch
    const [lines, agentsMsg] = publishes[0]!.messages;
    expect([lines!.subject, agentsMsg!.subject]).toEqual([LINES_SUBJECT, AGENTS_SUBJECT]);
    const batchId = agents(0)[0]!.batch_id;
    expect([lines!.msgId, agentsMsg!.msgId]).toEqual([`${batchId}:l0`, `${batchId}:a`]);
    expect(agents(0)).toEqual([{ batch_id: batchId, received_at: 1000, source: 'json', agents: [{ id: 'a1', name: 'A' }] }]);
    expect(points(0).map((x) => x.fields.v)).toEqual([1, 2]);
    expect(done).toBe(false); // answered only once JetStream stored it
    publishes[0]!.resolve();
    await p;
    expect(done).toBe(true);
  });

  it('puts the requests that arrive during a publish into one message, answered when it is stored', async () => {
    const { coalescer, publishes, points, agents } = harness();
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
    // one lines message holding the three requests, one agents message with their agents
    expect(publishes[1]!.messages.map((m) => m.subject)).toEqual([LINES_SUBJECT, AGENTS_SUBJECT]);
    expect(points(1).map((x) => [x.agent_id, x.fields.v])).toEqual([
      ['a2', 2],
      ['a3', 3],
      ['a3', 4],
      ['a2', 5],
    ]);
    // an agent named twice keeps what it said last; the batch's receipt time is the earliest
    const [msg] = agents(1);
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
    const { coalescer, publishes, agents } = harness();
    void coalescer.submit(part({ id: 'a1' }, [1], 1000, 'json'));
    void coalescer.submit(part({ id: 'a2' }, [2], 1000, 'line'));
    await tick();
    expect(publishes).toHaveLength(2);
    expect([agents(0)[0]!.source, agents(1)[0]!.source]).toEqual(['json', 'line']);
  });

  it('under load, lets the next group gather for lingerMs; a lone request lingers only within lingerMs of the last publish', async () => {
    fakeClock();
    const { coalescer, publishes, points } = harness(1024 * 1024, undefined, 30);
    const first = coalescer.submit(part({ id: 'a1' }, [1]));
    await tick();
    expect(publishes).toHaveLength(1); // at once: nothing was under way
    const second = coalescer.submit(part({ id: 'a2' }, [2]));
    publishes[0]!.resolve();
    await first;
    // the second waited for the first publish; now it gathers for 30 ms before going
    const third = coalescer.submit(part({ id: 'a3' }, [3]));
    await tick();
    expect(publishes).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(29);
    expect(publishes).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(31);
    expect(publishes).toHaveLength(2);
    expect(points(1).map((p) => p.agent_id)).toEqual(['a2', 'a3']);
    publishes[1]!.resolve();
    await Promise.all([second, third]);
    // quiet for longer than lingerMs since the last publish began: the next lone request goes at once
    await jest.advanceTimersByTimeAsync(40);
    const lone = coalescer.submit(part({ id: 'a4' }, [4]));
    await tick();
    expect(publishes).toHaveLength(3);
    publishes[2]!.resolve();
    await lone;
  });

  it('lets a request that comes within lingerMs of the last publish gather for the rest of that time', async () => {
    fakeClock();
    const { coalescer, publishes, points } = harness(1024 * 1024, undefined, 30);
    const first = coalescer.submit(part({ id: 'a1' }, [1]));
    await tick();
    publishes[0]!.resolve();
    await first;
    await tick(); // the first publish is over, and nothing waited for it; but it began a moment ago
    await jest.advanceTimersByTimeAsync(10);
    const soon = coalescer.submit(part({ id: 'a2' }, [2]));
    await tick();
    expect(publishes).toHaveLength(1);
    const alsoSoon = coalescer.submit(part({ id: 'a3' }, [3]));
    // the rest of the 30 ms since the first publish began: 20 more
    await jest.advanceTimersByTimeAsync(19);
    expect(publishes).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(publishes).toHaveLength(2);
    expect(points(1).map((p) => p.agent_id)).toEqual(['a2', 'a3']);
    publishes[1]!.resolve();
    await Promise.all([soon, alsoSoon]);
  });

  it('sends waiting requests without waiting any longer once they hold maxWaitingBytes', async () => {
    const { coalescer, publishes } = harness(1024 * 1024, 200);
    void coalescer.submit(part({ id: 'a1' }, [1]));
    await tick();
    for (let i = 0; i < 30; i++) void coalescer.submit(part({ id: `b${i}` }, [i]));
    await tick();
    expect(publishes.length).toBeGreaterThan(2);
  });

  it('splits a merged message that would be larger than a stream message, with one message id each', async () => {
    const { coalescer, publishes, points, agents } = harness(1024);
    void coalescer.submit(part({ id: 'a0' }, [0]));
    await tick();
    const waiting = Array.from({ length: 20 }, (_, i) => coalescer.submit(part({ id: `a${i + 1}` }, Array.from({ length: 5 }, (_, k) => i * 10 + k))));
    publishes[0]!.resolve();
    await tick();
    await tick();
    const lines = publishes[1]!.messages.filter((m) => m.subject === LINES_SUBJECT);
    expect(lines.length).toBeGreaterThan(1);
    expect(new Set(publishes[1]!.messages.map((m) => m.msgId)).size).toBe(publishes[1]!.messages.length);
    for (const m of publishes[1]!.messages) expect(m.data.length).toBeLessThanOrEqual(1024);
    // every point once, in order; a request's lines stay in one message
    expect(points(1).map((p) => p.fields.v)).toEqual(Array.from({ length: 20 }, (_, i) => Array.from({ length: 5 }, (_, k) => i * 10 + k)).flat());
    for (const m of lines) expect(new Set(new TelemetryLines(m.data).points().map((p) => p.agent_id)).size * 5).toBe(new TelemetryLines(m.data).points().length);
    expect(agents(1).flatMap((a) => a.agents)).toHaveLength(20);
    publishes[1]!.resolve();
    await Promise.all(waiting);
  });
});
