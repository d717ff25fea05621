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

/** One window set a batch adds samples to and reads from (see addAndReadMany). */
export interface WindowUpdate {
  key: string;
  samples: readonly Sample[];
  readFrom: number;
  windowMs: number;
}

/** What a batch leaves behind besides windows, written together (recordBatch). */
export interface BatchTraces {
  /** agents found in scope of rule revisions with absence conditions */
  absenceAgents: { ruleId: string; revision: number; agentIds: readonly string[] }[];
  /** latest point time per agent and watched measurement ('*' for any) */
  seen: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** agents whose offline mark the data clears */
  backOnline: readonly string[];
}

/** A pipeline with the scripts as commands (sent with EVALSHA once the connection has them). */
type ScriptPipeline = ReturnType<Redis['pipeline']> & {
  agentmonAddAndRead(key: string, ...args: (string | number)[]): unknown;
  agentmonMaxTimes(key: string, ...args: (string | number)[]): unknown;
};

/**
 * Evaluation state in Redis: sample windows, last-seen times, offline agents, the tick lock. The
 * batch methods (`…Many`, recordBatch) send all their commands in one pipeline, so a telemetry
 * batch costs a fixed number of round trips however many agents and rules it touches.
 */
@Injectable()
export class EvaluationStore {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    readonly keys: RedisKeys,
  ) {
    const defined = redis as Redis & { agentmonAddAndRead?: unknown; agentmonMaxTimes?: unknown };
    if (!defined.agentmonAddAndRead) redis.defineCommand('agentmonAddAndRead', { numberOfKeys: 1, lua: ADD_AND_READ });
    if (!defined.agentmonMaxTimes) redis.defineCommand('agentmonMaxTimes', { numberOfKeys: 1, lua: MAX_TIMES });
  }

  /**
   * Adds new samples to window sets and returns, for each, the samples after its `readFrom` (epoch
   * ms, exclusive), oldest first; all in one round trip, the answers in the order of the updates.
   * A set keeps only the window that ends at its newest sample.
   */
  async addAndReadMany(updates: readonly WindowUpdate[]): Promise<Sample[][]> {
    if (updates.length === 0) return [];
    const pipe = this.redis.pipeline() as ScriptPipeline;
    for (const u of updates) pipe.agentmonAddAndRead(u.key, ...addAndReadArgs(u));
    return (await execAll(pipe)).map((flat) => parseSamples(flat as string[]));
  }

  /** The samples of a window set (already trimmed to the window ending at its newest sample). */
  async readWindow(key: string): Promise<Sample[]> {
    return parseSamples(await this.redis.zrange(key, 0, -1, 'WITHSCORES'));
  }

  /** measurement -> epoch ms of the latest point ('*' for any measurement). */
  async lastSeen(agentId: string): Promise<Map<string, number>> {
    return seenMap(await this.redis.hgetall(this.keys.lastSeen(agentId)));
  }

  /** lastSeen of many agents in one round trip. */
  async lastSeenMany(agentIds: readonly string[]): Promise<Map<string, Map<string, number>>> {
    const out = new Map<string, Map<string, number>>();
    if (agentIds.length === 0) return out;
    const pipe = this.redis.pipeline();
    for (const id of agentIds) pipe.hgetall(this.keys.lastSeen(id));
    const replies = await execAll(pipe);
    agentIds.forEach((id, i) => out.set(id, seenMap(replies[i] as Record<string, string>)));
    return out;
  }

  /** Absence scope members, last-seen times and cleared offline marks of a batch, in one round trip. */
  async recordBatch(traces: BatchTraces): Promise<void> {
    const pipe = this.redis.pipeline() as ScriptPipeline;
    for (const a of traces.absenceAgents) {
      if (a.agentIds.length === 0) continue;
      const key = this.keys.absenceAgents(a.ruleId, a.revision);
      pipe.sadd(key, ...a.agentIds).pexpire(key, SEEN_TTL_MS);
    }
    for (const [agentId, times] of traces.seen) if (times.size) pipe.agentmonMaxTimes(this.keys.lastSeen(agentId), ...maxTimesArgs(times));
    if (traces.backOnline.length) pipe.hdel(this.keys.offlineAgents(), ...traces.backOnline);
    if (pipe.length) await execAll(pipe);
  }

  /** Marks agents offline, each since its time (one command for all of them). */
  async setOffline(since: ReadonlyMap<string, number>): Promise<void> {
    if (since.size) await this.redis.hset(this.keys.offlineAgents(), Object.fromEntries([...since].map(([id, at]) => [id, String(at)])));
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

function addAndReadArgs(u: WindowUpdate): (string | number)[] {
  const args: (string | number)[] = [u.windowMs, u.readFrom, IDLE_TTL_MS];
  for (const s of u.samples) args.push(s.t, `${s.t}|${s.v}`);
  return args;
}

function maxTimesArgs(times: ReadonlyMap<string, number>): (string | number)[] {
  const args: (string | number)[] = [SEEN_TTL_MS];
  for (const [field, t] of times) args.push(field, t);
  return args;
}

function seenMap(raw: Record<string, string>): Map<string, number> {
  return new Map(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
}

/** Runs a pipeline; the first failed command fails the whole (a batch is then redelivered). */
async function execAll(pipe: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const replies = (await pipe.exec()) ?? [];
  return replies.map(([err, reply]) => {
    if (err) throw err;
    return reply;
  });
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
