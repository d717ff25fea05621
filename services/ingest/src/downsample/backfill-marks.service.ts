import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { INGEST_CONFIG, type IngestConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { INGEST_REDIS } from '../stats/ingest-stats.service.js';
import { downsampleLevels, type DownsampleLevel } from './downsample-plan.js';

/** per level: agent → the time of its oldest point that came too late for the regular runs (a sorted set) */
export const backfillKey = (database: string, rp: string) => `agentmon:ingest:downsample:${database}:backfill:${rp}`;
/** per level: agent → when it was last marked (a hash beside the set) */
const markedAtKey = (database: string, rp: string) => `${backfillKey(database, rp)}:at`;

/**
 * Keeps the older point time per agent (ZADD LT, which needs Redis 6.2, done by hand) and when it was
 * marked. KEYS: set, hash, set, hash, …; ARGV[1]: now; then time, agent, time, agent, …
 */
const MARK = `
for k = 1, #KEYS, 2 do
  for i = 2, #ARGV, 2 do
    local cur = redis.call('ZSCORE', KEYS[k], ARGV[i + 1])
    if (not cur) or tonumber(cur) > tonumber(ARGV[i]) then redis.call('ZADD', KEYS[k], ARGV[i], ARGV[i + 1]) end
    redis.call('HSET', KEYS[k + 1], ARGV[i + 1], ARGV[1])
  end
end
return 0
`;
/**
 * Forgets the marks that were downsampled: unless the agent was marked again since, with points
 * as old or older. KEYS: set, hash; ARGV: time, marked at, agent, …
 */
const CLEAR = `
for i = 1, #ARGV, 3 do
  local cur = redis.call('ZSCORE', KEYS[1], ARGV[i + 2])
  local at = redis.call('HGET', KEYS[2], ARGV[i + 2])
  if cur and tonumber(cur) >= tonumber(ARGV[i]) and ((not at) or tonumber(at) <= tonumber(ARGV[i + 1])) then
    redis.call('ZREM', KEYS[1], ARGV[i + 2])
    redis.call('HDEL', KEYS[2], ARGV[i + 2])
  end
end
return 0
`;

/** A marked agent: its oldest late point and when it was last marked. */
export interface BackfillMark {
  agent: string;
  time: number;
  markedAt: number;
}

/**
 * Points that arrive later than a downsampling run reaches back (an agent that buffered while offline,
 * a backfill) would never reach the aggregates. The accept path marks their agents here, with the
 * time of the oldest such point, once JetStream stored the batch; each run of a level also computes
 * the marked agents from their mark on, and then forgets the marks it covered. Marks are per agent,
 * so one agent's day of backfill costs one agent's day of queries, not the fleet's.
 */
@Injectable()
export class BackfillMarks {
  private readonly levels: DownsampleLevel[];
  /** a point older than this before its receipt may be missed by the next regular run of the 1-minute level */
  private readonly lateAfterMs: number;
  private lastWarning = 0;

  constructor(
    @Inject(INGEST_REDIS) private readonly redis: Redis,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.levels = downsampleLevels(config);
    this.lateAfterMs = Math.min(...this.levels.map((l) => l.everyMs + l.lateMs));
  }

  /** Points older than this (for a batch received at `receivedAt`) are marked. */
  lateBefore(receivedAt: number): number {
    return receivedAt - this.lateAfterMs;
  }

  /** Marks the agents (with the time of each one's oldest late point); never delays or fails the caller. */
  note(late: readonly [agent: string, time: number][], now = Date.now()): void {
    if (late.length === 0) return;
    const args = late.flatMap(([agent, time]) => [String(time), agent]);
    const db = this.config.INFLUX_DATABASE;
    const keys = this.levels.flatMap((l) => [backfillKey(db, l.rp), markedAtKey(db, l.rp)]);
    this.redis.eval(MARK, keys.length, ...keys, String(now), ...args).catch((err: unknown) => {
      if (Date.now() - this.lastWarning < 60_000) return;
      this.lastWarning = Date.now();
      this.logger.warn({ err, agents: late.length }, 'late points could not be marked for downsampling (Redis); the aggregates miss them');
    });
  }

  /** The marked agents of a level, oldest point first (at most `limit`). */
  async marked(rp: DownsampleLevel['rp'], limit: number): Promise<BackfillMark[]> {
    const db = this.config.INFLUX_DATABASE;
    const flat = await this.redis.zrange(backfillKey(db, rp), 0, limit - 1, 'WITHSCORES');
    if (flat.length === 0) return [];
    const agents = flat.filter((_, i) => i % 2 === 0);
    const at = await this.redis.hmget(markedAtKey(db, rp), ...agents);
    return agents.map((agent, j) => ({ agent, time: Number(flat[2 * j + 1]), markedAt: Number(at[j] ?? 0) }));
  }

  /** Forgets the marks that were downsampled (unless the agent was marked again since, as far back). */
  async clear(rp: DownsampleLevel['rp'], done: readonly BackfillMark[]): Promise<void> {
    if (done.length === 0) return;
    const db = this.config.INFLUX_DATABASE;
    await this.redis.eval(CLEAR, 2, backfillKey(db, rp), markedAtKey(db, rp), ...done.flatMap((m) => [String(m.time), String(m.markedAt), m.agent]));
  }
}
