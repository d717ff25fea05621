import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
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

/** agents whose marks wait in memory while Redis cannot take them (beyond this, marks are dropped and logged) */
export const MAX_UNSENT_MARKS = 100_000;
/** agents per script call */
const MARKS_PER_CALL = 1_000;
/** how long unsent marks wait before they are sent again */
export const MARK_RETRY_MS = 5_000;

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
 *
 * Marking never delays or fails the accept path. When Redis cannot take marks, they wait in memory
 * (the oldest time per agent, at most MAX_UNSENT_MARKS agents) and are sent again every
 * MARK_RETRY_MS and at shutdown; the runs need Redis too (their lock), so none runs without them.
 * Marks are lost only beyond that bound or when the process ends before Redis is back (both logged).
 */
@Injectable()
export class BackfillMarks implements OnApplicationShutdown {
  private readonly levels: DownsampleLevel[];
  /** a point older than this before its receipt may be missed by the next regular run of the 1-minute level */
  private readonly lateAfterMs: number;
  private lastWarning = 0;
  /** agent → oldest late point not yet marked in Redis */
  private unsent = new Map<string, number>();
  private dropped = 0;
  private lastDropWarning = 0;
  private retry: NodeJS.Timeout | undefined;

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
    void this.send(late, now);
  }

  /** Agents whose marks wait in memory for Redis. */
  get waiting(): number {
    return this.unsent.size;
  }

  /** Sends what waits in memory now (also at shutdown); resolves once Redis took it or refused it again. */
  async sendUnsent(now = Date.now()): Promise<void> {
    clearTimeout(this.retry);
    this.retry = undefined;
    if (this.unsent.size === 0) return;
    const late = [...this.unsent];
    this.unsent = new Map();
    await this.send(late, now);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sendUnsent();
    if (this.unsent.size > 0) this.logger.error({ agents: this.unsent.size }, 'late points could not be marked for downsampling before shutdown (Redis); the aggregates miss them');
  }

  private async send(late: readonly (readonly [string, number])[], now: number): Promise<void> {
    const db = this.config.INFLUX_DATABASE;
    const keys = this.levels.flatMap((l) => [backfillKey(db, l.rp), markedAtKey(db, l.rp)]);
    let done = 0;
    try {
      // a call's arguments are spread: a few thousand at a time, not a large batch's every agent at once
      for (; done < late.length; done += MARKS_PER_CALL) {
        const args = late.slice(done, done + MARKS_PER_CALL).flatMap(([agent, time]) => [String(time), agent]);
        await this.redis.eval(MARK, keys.length, ...keys, String(now), ...args);
      }
    } catch (err) {
      this.keep(done === 0 ? late : late.slice(done));
      if (Date.now() - this.lastWarning >= 60_000) {
        this.lastWarning = Date.now();
        this.logger.warn({ err, agents: late.length, waiting: this.unsent.size }, `late points could not be marked for downsampling (Redis); retrying every ${MARK_RETRY_MS / 1000} s`);
      }
      this.retry ??= setTimeout(() => void this.sendUnsent(), MARK_RETRY_MS).unref();
    }
  }

  /** Keeps marks for a later send: the oldest time per agent, at most MAX_UNSENT_MARKS agents. */
  private keep(late: readonly (readonly [string, number])[]): void {
    let dropped = 0;
    for (const [agent, time] of late) {
      const cur = this.unsent.get(agent);
      if (cur !== undefined) {
        if (time < cur) this.unsent.set(agent, time);
      } else if (this.unsent.size < MAX_UNSENT_MARKS) this.unsent.set(agent, time);
      else dropped++;
    }
    this.dropped += dropped;
    if (dropped > 0 && Date.now() - this.lastDropWarning >= 60_000) {
      this.lastDropWarning = Date.now();
      this.logger.error({ dropped_total: this.dropped }, 'late points could not be marked for downsampling and too many marks wait for Redis; the aggregates miss them');
    }
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
