import { jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LATEST_PREFIX, LATEST_SEND_INTERVAL_MS, LatestValuesService } from './latest-values.service.js';

/** How long the fake Redis takes to answer a pipeline. */
const ROUND_TRIP_MS = 50;

/**
 * A Redis that records each script call (its time and its agents) and answers after ROUND_TRIP_MS.
 * The sending schedule is logic; what the script does to real hashes is
 * covered by queries.int-spec.ts against Redis.
 */
function fakeRedis() {
  const sends: { at: number; agents: string[] }[] = [];
  const redis = {
    defineCommand: () => undefined,
    agentmonSetNewerMany(count: number, ...args: unknown[]) {
      const agents = (args.slice(0, count) as string[]).map((k) => k.slice(LATEST_PREFIX.length));
      sends.push({ at: Date.now(), agents });
      return new Promise((resolve) => setTimeout(() => resolve(agents.length), ROUND_TRIP_MS));
    },
  };
  return { redis: redis as unknown as Redis, sends };
}

const logger = { warn: () => undefined } as unknown as Logger;
const point = (agent_id: string, time: number) => ({ agent_id, measurement: 'm', fields: { v: time }, time });

describe('LatestValuesService sending', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('sends at most once per interval while batches keep coming, and nothing is left behind', async () => {
    const { redis, sends } = fakeRedis();
    const latest = new LatestValuesService(redis, logger);
    const start = Date.now();
    // a batch every 10 ms for 3.5 s, each observed and flushed as the accept path does
    for (let i = 0; i < 350; i++) {
      latest.observe([point(`a${i}`, start + i)]);
      void latest.flush();
      await jest.advanceTimersByTimeAsync(10);
    }
    await jest.advanceTimersByTimeAsync(2 * LATEST_SEND_INTERVAL_MS);
    const times = sends.map((s) => s.at - start);
    expect(times).toEqual([0, 1000, 2000, 3000, 4000]);
    // every agent observed was sent exactly once
    const sent = sends.flatMap((s) => s.agents).sort();
    expect(sent).toEqual(Array.from({ length: 350 }, (_, i) => `a${i}`).sort());
  });

  it('sends at once when the last send is an interval ago', async () => {
    const { redis, sends } = fakeRedis();
    const latest = new LatestValuesService(redis, logger);
    latest.observe([point('a', 1)]);
    void latest.flush();
    await jest.advanceTimersByTimeAsync(LATEST_SEND_INTERVAL_MS + ROUND_TRIP_MS);
    const before = Date.now();
    latest.observe([point('b', 2)]);
    void latest.flush();
    await jest.advanceTimersByTimeAsync(0);
    expect(sends.map((s) => [s.at - before, s.agents])).toEqual([
      [-LATEST_SEND_INTERVAL_MS - ROUND_TRIP_MS, ['a']],
      [0, ['b']],
    ]);
  });

  it('sends everything left when closing, without waiting for the interval', async () => {
    const { redis, sends } = fakeRedis();
    const latest = new LatestValuesService(redis, logger);
    latest.observe([point('a', 1)]);
    void latest.flush();
    await jest.advanceTimersByTimeAsync(10);
    // observed during the first send
    latest.observe([point('b', 2)]);
    const closed = latest.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(2 * ROUND_TRIP_MS);
    await closed;
    expect(sends.map((s) => s.agents)).toEqual([['a'], ['b']]);
    expect(sends[1]!.at - sends[0]!.at).toBe(ROUND_TRIP_MS);
  });
});

describe('LatestValuesService: a large send', () => {
  it('goes out as a call per 250 agents, each written in a turn of the event loop of its own, every agent once', async () => {
    const { redis, sends } = fakeRedis();
    const latest = new LatestValuesService(redis, logger);
    latest.observe(Array.from({ length: 600 }, (_, i) => point(`a${i}`, i)));
    // a callback queued when the send begins runs before its last call is written
    const order: string[] = [];
    const sent = latest.flush().then(() => order.push('sent'));
    setImmediate(() => order.push(`turn after ${sends.length} calls`));
    await sent;
    expect(sends.map((s) => s.agents.length)).toEqual([250, 250, 100]);
    expect(sends.flatMap((s) => s.agents).sort()).toEqual(Array.from({ length: 600 }, (_, i) => `a${i}`).sort());
    expect(order).toEqual(['turn after 1 calls', 'sent']);
  });
});

