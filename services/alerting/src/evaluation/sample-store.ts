import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '../redis/redis.module.js';
import { RedisKeys } from '../redis/redis-keys.js';
import type { Sample } from './aggregation.js';

/** Idle evaluation state outlives its window by this much, then Redis drops it. */
const IDLE_TTL_MS = 3_600_000;
const SEEN_TTL_MS = 8 * 86_400_000;

/**
 * Adds samples to a window set (a point at a time already present replaces it, as in InfluxDB),
 * returns the samples newer than ARGV[2] (exclusive), then trims the set to the window that ends at
 * its newest sample and sets the idle expiry. KEYS[1] = set; ARGV = windowMs, readFrom, ttlMs,
 * then pairs of (time, member).
 */
const ADD_AND_READ = `
local key = KEYS[1]
local window = tonumber(ARGV[1])
for i = 4, #ARGV, 2 do
  redis.call('ZREMRANGEBYSCORE', key, ARGV[i], ARGV[i])
  redis.call('ZADD', key, ARGV[i], ARGV[i + 1])
end
local out = redis.call('ZRANGEBYSCORE', key, '(' .. ARGV[2], '+inf', 'WITHSCORES')
local newest = redis.call('ZREVRANGE', key, 0, 0, 'WITHSCORES')
if newest[2] then
  redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.0f', tonumber(newest[2]) - window))
  redis.call('PEXPIRE', key, string.format('%.0f', window + tonumber(ARGV[3])))
end
return out
`;

/** Sets hash fields to the given times unless a later time is already stored. KEYS[1] = hash; ARGV = ttlMs, then (field, time) pairs. */
const MAX_TIMES = `
for i = 2, #ARGV, 2 do
  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '-1')
  if tonumber(ARGV[i + 1]) > cur then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`;

/** Releases a lock only if this holder still owns it. */
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** Evaluation state in Redis: sample windows, last-seen times, offline agents, the tick lock. */
@Injectable()
export class EvaluationStore {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    readonly keys: RedisKeys,
  ) {}

  /**
   * Adds new samples to a window set and returns the samples after `readFrom` (epoch ms, exclusive),
   * oldest first. The set keeps only the window that ends at its newest sample.
   */
  async addAndRead(key: string, samples: readonly Sample[], readFrom: number, windowMs: number): Promise<Sample[]> {
    const args: (string | number)[] = [windowMs, readFrom, IDLE_TTL_MS];
    for (const s of samples) args.push(s.t, `${s.t}|${s.v}`);
    const flat = (await this.redis.eval(ADD_AND_READ, 1, key, ...args)) as string[];
    return parseSamples(flat);
  }

  /** The samples of a window set (already trimmed to the window ending at its newest sample). */
  async readWindow(key: string): Promise<Sample[]> {
    return parseSamples(await this.redis.zrange(key, 0, -1, 'WITHSCORES'));
  }

  /** Records the latest point time per measurement of an agent ('*' for any measurement). */
  async markSeen(agentId: string, times: Map<string, number>): Promise<void> {
    if (times.size === 0) return;
    const args: (string | number)[] = [SEEN_TTL_MS];
    for (const [field, t] of times) args.push(field, t);
    await this.redis.eval(MAX_TIMES, 1, this.keys.lastSeen(agentId), ...args);
  }

  /** measurement -> epoch ms of the latest point ('*' for any measurement). */
  async lastSeen(agentId: string): Promise<Map<string, number>> {
    const raw = await this.redis.hgetall(this.keys.lastSeen(agentId));
    return new Map(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }

  async setOffline(agentId: string, at: number): Promise<void> {
    await this.redis.hset(this.keys.offlineAgents(), agentId, String(at));
  }

  async clearOffline(agentIds: string[]): Promise<void> {
    if (agentIds.length) await this.redis.hdel(this.keys.offlineAgents(), ...agentIds);
  }

  async isOffline(agentId: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.offlineAgents(), agentId)) === 1;
  }

  /** Remembers that an agent is in scope of a rule revision with absence conditions (for the sweep). */
  async addAbsenceAgent(ruleId: string, revision: number, agentId: string): Promise<void> {
    const key = this.keys.absenceAgents(ruleId, revision);
    await this.redis.multi().sadd(key, agentId).pexpire(key, SEEN_TTL_MS).exec();
  }

  async absenceAgents(ruleId: string, revision: number): Promise<string[]> {
    return this.redis.smembers(this.keys.absenceAgents(ruleId, revision));
  }

  /** Takes a lock for ttlMs; answers false when another holder has it. */
  async tryLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async unlock(key: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE_LOCK, 1, key, token);
  }
}

function parseSamples(flat: string[]): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const member = flat[i]!;
    const bar = member.indexOf('|');
    const v = Number(member.slice(bar + 1));
    const t = Number(flat[i + 1]);
    if (bar > 0 && Number.isFinite(v) && Number.isFinite(t)) out.push({ t, v });
  }
  return out;
}
