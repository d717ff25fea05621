// Rate counting sums in memory and sends one Redis transaction per flush, not one per request.
import pino from 'pino';
import type { Redis } from 'ioredis';
import { IngestStatsService, STATS_FLUSH_MS } from './ingest-stats.service.js';

class FakeRedis {
  readonly transactions: string[][] = [];
  fail = false;
  multi() {
    const cmds: string[] = [];
    const tx = {
      incrby: (k: string, n: number) => (cmds.push(`incrby ${k} ${n}`), tx),
      expire: (k: string, s: number) => (cmds.push(`expire ${k} ${s}`), tx),
      exec: () => {
        this.transactions.push(cmds);
        return this.fail ? Promise.reject(new Error('redis down')) : Promise.resolve([]);
      },
    };
    return tx;
  }
  quit() {
    return Promise.resolve('OK');
  }
}

function service(redis: FakeRedis) {
  return new IngestStatsService(redis as unknown as Redis, pino({ level: 'silent' }));
}

describe('IngestStatsService counting', () => {
  it('sums requests and points per second and sends them in one transaction after STATS_FLUSH_MS', async () => {
    const redis = new FakeRedis();
    const stats = service(redis);
    const t = 1_764_244_800_000;
    stats.record(2, t);
    stats.record(3, t + 500);
    stats.record(5, t + 1200);
    expect(redis.transactions).toHaveLength(0);
    await new Promise((r) => setTimeout(r, STATS_FLUSH_MS + 50));
    const sec = t / 1000;
    expect(redis.transactions).toEqual([
      [
        `incrby agentmon:ingest:rate:points:${sec} 5`,
        `expire agentmon:ingest:rate:points:${sec} 180`,
        `incrby agentmon:ingest:rate:requests:${sec} 2`,
        `expire agentmon:ingest:rate:requests:${sec} 180`,
        `incrby agentmon:ingest:rate:points:${sec + 1} 5`,
        `expire agentmon:ingest:rate:points:${sec + 1} 180`,
        `incrby agentmon:ingest:rate:requests:${sec + 1} 1`,
        `expire agentmon:ingest:rate:requests:${sec + 1} 180`,
      ],
    ]);
    // nothing new, nothing sent
    await stats.flush();
    expect(redis.transactions).toHaveLength(1);
  });

  it('sends what is pending when the service stops, and a failing Redis never throws', async () => {
    const redis = new FakeRedis();
    const stats = service(redis);
    stats.record(1, 1_000);
    await stats.onApplicationShutdown();
    expect(redis.transactions).toHaveLength(1);
    redis.fail = true;
    stats.record(1, 2_000);
    await expect(stats.flush()).resolves.toBeUndefined();
  });
});
