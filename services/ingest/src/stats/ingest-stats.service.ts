import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LOGGER } from '../logger.token.js';

export const INGEST_REDIS = Symbol('INGEST_REDIS');
const PREFIX = 'agentmon:ingest:rate';
/** seconds a per-second counter lives; longer than the window read */
const KEEP_S = 180;
const WINDOW_S = 60;
/** how long counts are summed in memory before one Redis transaction sends them */
export const STATS_FLUSH_MS = 250;

/**
 * Ingest rates shared by all replicas: per-second counters in Redis (INCRBY + EXPIRE), summed over
 * the last complete minute. Counting never delays or fails an ingest request: counts are summed in
 * memory per second and sent every STATS_FLUSH_MS in one transaction (not one per request, which cost
 * Redis and ingest more CPU than the rest of a small request's bookkeeping).
 */
@Injectable()
export class IngestStatsService implements OnApplicationShutdown {
  private lastWarning = 0;
  private readonly pending = new Map<number, { points: number; requests: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(INGEST_REDIS) private readonly redis: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Counts one accepted request with its points. */
  record(points: number, at = Date.now()): void {
    const sec = Math.floor(at / 1000);
    const counts = this.pending.get(sec);
    if (counts) {
      counts.points += points;
      counts.requests++;
    } else this.pending.set(sec, { points, requests: 1 });
    this.timer ??= setTimeout(() => void this.flush(), STATS_FLUSH_MS);
  }

  /** Sends the counts summed since the last flush. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return Promise.resolve();
    const tx = this.redis.multi();
    for (const [sec, c] of this.pending) {
      tx.incrby(`${PREFIX}:points:${sec}`, c.points)
        .expire(`${PREFIX}:points:${sec}`, KEEP_S)
        .incrby(`${PREFIX}:requests:${sec}`, c.requests)
        .expire(`${PREFIX}:requests:${sec}`, KEEP_S);
    }
    this.pending.clear();
    return tx.exec().then(
      () => undefined,
      (err: unknown) => {
        if (Date.now() - this.lastWarning > 60_000) {
          this.lastWarning = Date.now();
          this.logger.warn({ err }, 'ingest rate counters could not be updated in Redis');
        }
      },
    );
  }

  /** Points and requests per second over the last complete minute. */
  async rates(now = Date.now()): Promise<{ points_per_second: number; requests_per_second: number }> {
    const last = Math.floor(now / 1000) - 1;
    const secs = Array.from({ length: WINDOW_S }, (_, i) => last - i);
    const [points, requests] = await Promise.all([
      this.redis.mget(secs.map((s) => `${PREFIX}:points:${s}`)),
      this.redis.mget(secs.map((s) => `${PREFIX}:requests:${s}`)),
    ]);
    const sum = (vals: (string | null)[]) => vals.reduce((acc, v) => acc + (v ? Number(v) : 0), 0);
    const round = (n: number) => Math.round(n * 1000) / 1000;
    return { points_per_second: round(sum(points) / WINDOW_S), requests_per_second: round(sum(requests) / WINDOW_S) };
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
