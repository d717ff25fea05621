import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { IngestConfig } from '../config.js';
import { BackfillMarks, MAX_UNSENT_MARKS } from './backfill-marks.service.js';

// What happens to marks while Redis cannot take them (unit: Redis is a stand-in that fails on demand
// and records what it was sent; the marks in real Redis are checked in test/queries.int-spec.ts).
const M = 60_000;
function setup() {
  const state = { down: true, sent: [] as Map<string, number>[] };
  const redis = {
    eval: async (_script: string, nKeys: number, ...rest: string[]) => {
      if (state.down) throw new Error('Redis is down');
      const args = rest.slice(nKeys + 1);
      const marks = new Map<string, number>();
      for (let i = 0; i < args.length; i += 2) marks.set(args[i + 1]!, Number(args[i]));
      state.sent.push(marks);
      return 0;
    },
  } as unknown as Redis;
  const config = { INFLUX_DATABASE: 'db', RAW_RETENTION: '90d', DOWNSAMPLE_1M_EVERY_MS: 5 * M, DOWNSAMPLE_1H_EVERY_MS: 30 * M } as IngestConfig;
  const logs: string[] = [];
  const logger = { warn: (_o: unknown, m: string) => logs.push(m), error: (_o: unknown, m: string) => logs.push(m) } as unknown as Logger;
  return { marks: new BackfillMarks(redis, config, logger), state, logs };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('BackfillMarks while Redis is down', () => {
  it('keeps the oldest late point per agent in memory and sends them all once Redis is back', async () => {
    const { marks, state, logs } = setup();
    marks.note([
      ['a', 100],
      ['b', 200],
    ]);
    marks.note([
      ['a', 50],
      ['b', 300],
      ['c', 400],
    ]);
    await settle();
    expect(marks.waiting).toBe(3);
    expect(state.sent).toEqual([]);
    expect(logs).toHaveLength(1);
    // a retry while Redis is still down keeps them
    await marks.sendUnsent();
    expect(marks.waiting).toBe(3);
    state.down = false;
    await marks.sendUnsent();
    expect(marks.waiting).toBe(0);
    expect(state.sent).toEqual([
      new Map([
        ['a', 50],
        ['b', 200],
        ['c', 400],
      ]),
    ]);
    // a new mark goes straight to Redis
    marks.note([['d', 10]]);
    await settle();
    expect(state.sent[1]).toEqual(new Map([['d', 10]]));
    await marks.onApplicationShutdown();
  });

  it('sends what waits at shutdown, and drops (and reports) marks beyond its bound', async () => {
    const { marks, state, logs } = setup();
    marks.note(Array.from({ length: MAX_UNSENT_MARKS + 5 }, (_, i): [string, number] => [`agent-${i}`, i]));
    await settle();
    expect(marks.waiting).toBe(MAX_UNSENT_MARKS);
    expect(logs.some((l) => l.includes('too many marks wait'))).toBe(true);
    state.down = false;
    await marks.onApplicationShutdown();
    expect(marks.waiting).toBe(0);
    expect(state.sent.reduce((n, m) => n + m.size, 0)).toBe(MAX_UNSENT_MARKS);
  });
});
