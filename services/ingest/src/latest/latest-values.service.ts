import { setImmediate as nextTurn } from 'node:timers/promises';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LatestResult } from '@agentmon/contracts';
import type { LatestPoint, NewestLine } from '../ingest/line-protocol.fast.js';
import { LOGGER } from '../logger.token.js';
import { INGEST_REDIS } from '../stats/ingest-stats.service.js';
import { PendingLatest, SEP } from './pending-latest.js';

export const LATEST_PREFIX = 'agentmon:ingest:latest:';
/** an agent's hash is forgotten this long after its last point */
export const LATEST_TTL_MS = 7 * 24 * 3_600_000;
/** agents per script call */
const AGENTS_PER_CALL = 250;
/**
 * sends to Redis start at most this often: a busy ingest merges many batches into one send (the
 * live views read these values; the dashboard's live stream comes from the telemetry stream itself)
 */
export const LATEST_SEND_INTERVAL_MS = 1000;

/** between an agent's fields in the one argument that carries them (JSON escapes every control character) */
const FIELD_END = '\u001e';
/** between a field's name and its `<time>:<json value>` */
const NAME_END = '\u001d';

/**
 * Sets fields of several agents' hashes to `<time>:<json value>` unless the hash already holds a
 * newer time for the field, so replicas and redelivered batches never put an older value over a
 * newer one. KEYS = the agents' hashes; ARGV[1] TTL ms; then per key one argument with all of its
 * fields, each `<field>\x1d<time>:<json value>\x1e`. One call for many agents: a call per agent was
 * most of what a large batch cost ingest (and Redis) after the batch was stored; one argument per
 * agent rather than three per field: ioredis' work is per argument, and a send of 1,000 agents'
 * values once a second held ingest's event loop for 6–26 ms on the eighth machine of
 * docs/benchmarks.md (item 36). (The keys of one call must share a slot under Redis Cluster;
 * agentmon uses one Redis.)
 */
const SET_NEWER = `
local changed = 0
for k = 1, #KEYS do
  local packed = ARGV[k + 1]
  local pos = 1
  while pos <= #packed do
    local name_end = string.find(packed, '\\29', pos, true)
    local field_end = string.find(packed, '\\30', name_end, true)
    local field = string.sub(packed, pos, name_end - 1)
    local value = string.sub(packed, name_end + 1, field_end - 1)
    local t = tonumber(string.match(value, '^(%-?%d+):'))
    local cur = redis.call('HGET', KEYS[k], field)
    if (not cur) or (tonumber(string.match(cur, '^(%-?%d+):')) or -1) < t then
      redis.call('HSET', KEYS[k], field, value)
      changed = changed + 1
    end
    pos = field_end + 1
  end
  redis.call('PEXPIRE', KEYS[k], ARGV[1])
end
return changed
`;

/**
 * The latest value of every field of every measurement per agent, in Redis (one hash per agent:
 * `<measurement>\x1f<field>` → `<epoch ms>:<JSON value>`), for the live views. The accept path
 * reports each batch once JetStream acknowledged it (a large line-protocol batch only its newest
 * line per agent and line shape, undecoded, see PendingLatest); the values are merged in memory
 * (last value per field) and sent to Redis at most every LATEST_SEND_INTERVAL_MS, one script call
 * per 250 agents, so Redis being slow or down never delays accepting, and memory holds at most one
 * value (or line) per agent and field until the next send.
 */
@Injectable()
export class LatestValuesService implements OnApplicationShutdown {
  private readonly pending = new PendingLatest();
  private sending: Promise<void> | undefined;
  private lastSendAt = 0;
  private closing = false;
  private lastWarning = 0;
  private readonly redis: Redis;

  constructor(
    @Inject(INGEST_REDIS) redis: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    if (!('agentmonSetNewerMany' in redis)) redis.defineCommand('agentmonSetNewerMany', { lua: SET_NEWER });
    this.redis = redis;
  }

  /** Remembers the points' values (newest per agent, measurement and field; tags do not matter). */
  observe(points: readonly LatestPoint[]): void {
    this.pending.observe(points);
  }

  /** Remembers a line-protocol batch's newest lines, decoded only when sent (PendingLatest). */
  observeLines(lines: readonly NewestLine[]): void {
    this.pending.observeLines(lines);
  }

  /**
   * Sends what was observed, at most once every LATEST_SEND_INTERVAL_MS: a send already under way or
   * due soon takes the rest.
   */
  flush(): Promise<void> {
    if (this.sending) return this.sending;
    if (this.pending.empty) return Promise.resolve();
    const wait = this.lastSendAt + LATEST_SEND_INTERVAL_MS - Date.now();
    this.sending = (wait > 0 && !this.closing ? new Promise<void>((r) => setTimeout(r, wait).unref()) : Promise.resolve())
      .then(() => this.send())
      .finally(() => {
        this.sending = undefined;
        // what came while this send was under way goes with the next, an interval after this one began
        if (!this.pending.empty && !this.closing) void this.flush();
      });
    return this.sending;
  }

  /**
   * One send of everything observed; when closing, again until nothing is left. Not a loop while
   * batches keep coming: at a peak each send found the next batches already observed, and sends ran
   * back to back, one Redis round trip after another, each encoding the whole fleet's values again
   * (a ninth of ingest's CPU in a peak, docs/benchmarks.md, item 29).
   */
  private async send(): Promise<void> {
    do {
      this.lastSendAt = Date.now();
      const batch = this.pending.take();
      try {
        const agents = [...batch];
        // a call per AGENTS_PER_CALL agents, each encoded and written in a turn of the event loop
        // of its own, so that requests waiting meanwhile are answered between them
        const setNewerMany = (this.redis as unknown as { agentmonSetNewerMany(...a: unknown[]): Promise<unknown> }).agentmonSetNewerMany.bind(this.redis);
        const calls: Promise<unknown>[] = [];
        for (let i = 0; i < agents.length; i += AGENTS_PER_CALL) {
          if (i > 0) await nextTurn();
          const slice = agents.slice(i, i + AGENTS_PER_CALL);
          const args: (string | number)[] = slice.map(([agent]) => LATEST_PREFIX + agent);
          args.push(LATEST_TTL_MS);
          for (const [, fields] of slice) {
            let packed = '';
            for (const [key, [time, value]] of fields) packed += `${key}${NAME_END}${time}:${JSON.stringify(value)}${FIELD_END}`;
            args.push(packed);
          }
          // settled here, not only when all are: one may fail while the next is being encoded
          calls.push(setNewerMany(slice.length, ...args).catch((err: Error) => err));
        }
        const failed = (await Promise.all(calls)).find((r) => r instanceof Error);
        if (failed) throw failed;
      } catch (err) {
        // the live views miss these values until the next points come; the stored data is unaffected
        if (Date.now() - this.lastWarning > 60_000) {
          this.lastWarning = Date.now();
          this.logger.warn({ err }, 'latest values could not be written to Redis');
        }
        return;
      }
    } while (this.closing && !this.pending.empty);
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
    this.closing = true;
    await this.flush().catch(() => undefined);
  }
}
