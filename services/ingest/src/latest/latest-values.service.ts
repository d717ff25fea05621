import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LatestResult, StoredPoint } from '@agentmon/contracts';
import { LOGGER } from '../logger.token.js';
import { INGEST_REDIS } from '../stats/ingest-stats.service.js';

export const LATEST_PREFIX = 'agentmon:ingest:latest:';
/** between measurement and field in a hash field: a control character, which no stored name contains */
const SEP = '\u001f';
/** an agent's hash is forgotten this long after its last point */
export const LATEST_TTL_MS = 7 * 24 * 3_600_000;
/** agents per Redis pipeline */
const AGENTS_PER_PIPELINE = 500;

/**
 * Sets each given field of the hash to `<time>:<json value>` unless the hash already holds a newer
 * time for it, so replicas and redelivered batches never put an older value over a newer one.
 * KEYS[1] the agent's hash; ARGV[1] TTL ms; then triples of field, time, encoded value.
 */
const SET_NEWER = `
local n = 0
for i = 2, #ARGV, 3 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  local t = tonumber(ARGV[i + 1])
  if (not cur) or (tonumber(string.match(cur, '^(%-?%d+):')) or -1) < t then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
    n = n + 1
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return n
`;

type RedisWithLatest = Redis & { agentmonSetNewer(key: string, ttl: number, ...args: (string | number)[]): Promise<number> };

/**
 * The latest value of every field of every measurement per agent, in Redis (one hash per agent:
 * `<measurement>\x1f<field>` → `<epoch ms>:<JSON value>`), for the live views. The InfluxDB writer
 * reports the points it reads from the stream; they are merged in memory (last value per field)
 * and sent to Redis by one pipeline at a time, so Redis being slow or down never delays writing
 * and memory holds at most one value per agent and field until the next send.
 */
@Injectable()
export class LatestValuesService implements OnApplicationShutdown {
  private pending = new Map<string, Map<string, [number, number | boolean | string]>>();
  private sending: Promise<void> | undefined;
  private lastWarning = 0;
  private readonly redis: RedisWithLatest;

  constructor(
    @Inject(INGEST_REDIS) redis: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    if (!('agentmonSetNewer' in redis)) redis.defineCommand('agentmonSetNewer', { numberOfKeys: 1, lua: SET_NEWER });
    this.redis = redis as unknown as RedisWithLatest;
  }

  /** Remembers the points' values (newest per agent, measurement and field). */
  observe(points: readonly StoredPoint[]): void {
    for (const p of points) {
      let fields = this.pending.get(p.agent_id);
      if (!fields) this.pending.set(p.agent_id, (fields = new Map()));
      for (const f in p.fields) {
        const key = p.measurement + SEP + f;
        const cur = fields.get(key);
        if (!cur || cur[0] <= p.time) fields.set(key, [p.time, p.fields[f]!]);
      }
    }
  }

  /** Sends what was observed; a send already under way takes the rest when it is done. */
  flush(): Promise<void> {
    if (this.sending) return this.sending;
    if (this.pending.size === 0) return Promise.resolve();
    this.sending = this.send().finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  private async send(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = this.pending;
      this.pending = new Map();
      try {
        const agents = [...batch];
        for (let i = 0; i < agents.length; i += AGENTS_PER_PIPELINE) {
          const pipeline = this.redis.pipeline();
          for (const [agent, fields] of agents.slice(i, i + AGENTS_PER_PIPELINE)) {
            const args: (string | number)[] = [];
            for (const [key, [time, value]] of fields) args.push(key, time, `${time}:${JSON.stringify(value)}`);
            (pipeline as unknown as { agentmonSetNewer(...a: unknown[]): void }).agentmonSetNewer(LATEST_PREFIX + agent, LATEST_TTL_MS, ...args);
          }
          const results = await pipeline.exec();
          const failed = results?.find(([err]) => err);
          if (failed) throw failed[0];
        }
      } catch (err) {
        // the live views miss these values until the next points come; the stored data is unaffected
        if (Date.now() - this.lastWarning > 60_000) {
          this.lastWarning = Date.now();
          this.logger.warn({ err }, 'latest values could not be written to Redis');
        }
        return;
      }
    }
  }

  /** The latest values of the agents (all measurements, or the named ones). */
  async read(agentIds: readonly string[], measurements?: readonly string[]): Promise<LatestResult> {
    const pipeline = this.redis.pipeline();
    for (const id of agentIds) pipeline.hgetall(LATEST_PREFIX + id);
    const results = (await pipeline.exec()) ?? [];
    const wanted = measurements?.length ? new Set(measurements) : null;
    return {
      items: agentIds.map((agent_id, i) => {
        const [err, hash] = results[i] ?? [null, {}];
        if (err) throw err;
        const out: LatestResult['items'][number]['measurements'] = {};
        for (const [key, raw] of Object.entries((hash ?? {}) as Record<string, string>)) {
          const sep = key.indexOf(SEP);
          const colon = raw.indexOf(':');
          if (sep < 0 || colon < 0) continue;
          const m = key.slice(0, sep);
          if (wanted && !wanted.has(m)) continue;
          let value: unknown;
          try {
            value = JSON.parse(raw.slice(colon + 1));
          } catch {
            continue;
          }
          if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'string') continue;
          (out[m] ??= {})[key.slice(sep + 1)] = { value, time: new Date(Number(raw.slice(0, colon))).toISOString() };
        }
        return { agent_id, measurements: out };
      }),
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush().catch(() => undefined);
  }
}
