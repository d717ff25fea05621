import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { INGEST_CONFIG, retentionMs, type IngestConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { BackpressureService } from '../backpressure/backpressure.service.js';
import { InfluxClient, type FieldTypesByMeasurement } from '../influx/influx.client.js';
import { InfluxSchemaService } from '../influx/influx-schema.service.js';
import { INGEST_REDIS } from '../stats/ingest-stats.service.js';
import { INGEST_METRICS, type IngestMetrics } from '../stats/ingest-metrics.js';
import { BackfillMarks } from './backfill-marks.service.js';
import { GROUP_AGGREGATOR, type GroupAggregator } from './aggregate-group.js';
import { agentsStatement, chunked, downsampleLevels, downsampleStatement, nextRunAt, rawPointsStatement, runRange, type DownsampleLevel } from './downsample-plan.js';

/** per level: when its last successful run began (epoch ms); one hash per InfluxDB database */
export const downsampleDoneKey = (database: string) => `agentmon:ingest:downsample:${database}:done`;
/** the replica running a level now */
export const downsampleLockKey = (database: string, rp: string) => `agentmon:ingest:downsample:${database}:lock:${rp}`;
/** how often the schedule is looked at */
const TICK_MS = 5_000;
/** a run waits while the writer has more stream messages than this left to write (its points are not in InfluxDB yet) */
const DEFER_BACKLOG = 1_000;
/** … but not longer than this: aggregates of what is there beat none, and a later run covers the rest */
const MAX_DEFER_MS = 15 * 60_000;
/** after a failed run, the next attempt */
const RETRY_MS = 60_000;
const QUERY_TIMEOUT_MS = 120_000;
/** aggregate lines per write into a retention policy */
const WRITE_LINES = 5_000;
/**
 * raw rows per chunk of InfluxDB's answer at most (InfluxDB also ends a chunk with each series). Each
 * chunk is parsed and aggregated in one go, and the loop is let go between chunks
 * (InfluxClient.queryChunked), so one stays short: a series of 60 points (ten minutes of an agent
 * pushing every 10 s) took 1.5 ms at the 99th percentile in `bench/downsampling.mjs`'s setting
 * (docs/benchmarks.md, item 45). That matters where the loop is ingest's own (DOWNSAMPLE_THREAD off).
 */
const CHUNK_ROWS = 1_000;
/** marked agents one run takes on at most (the rest wait for the next run) */
const MAX_MARKS_PER_RUN = 10_000;
/** how long after marking an agent's points are taken to be written, beyond the writer's lag */
const MARK_SETTLE_MS = 10_000;

/** Extends the lock if this replica still holds it. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
/** Frees the lock if this replica holds it. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export type RunOutcome = 'ok' | 'failed' | 'deferred' | 'elsewhere';

/**
 * Downsampling of the raw points into the 1-minute and 1-hour aggregates (mean, min, max, count and
 * sum of every field, per series), in place of InfluxDB continuous queries. A continuous query over
 * `GROUP BY *` pays per series: with 10,000 agents one run of the 1-minute query's statement took
 * InfluxDB 13 s of CPU in 10 s, 1.3 of the benchmark machine's 2 cores, every 2 minutes
 * (`node bench/downsampling.mjs`, docs/benchmarks.md). Here a run:
 * - is due every DOWNSAMPLE_1M_EVERY_MS (1h level: DOWNSAMPLE_1H_EVERY_MS), and covers the buckets since
 *   shortly before where the previous run began (`runRange`), so points that came late are counted
 *   and an outage of ingest or InfluxDB is caught up (up to DOWNSAMPLE_CATCH_UP_MS);
 * - asks one query per DOWNSAMPLE_AGENTS_PER_QUERY agents, and pauses DOWNSAMPLE_PAUSE_RATIO times as
 *   long as each query took before the next, so InfluxDB keeps CPU for writes and queries meanwhile;
 * - reads each group's raw points once (`SELECT *`, chunked) and computes the aggregates itself
 *   (BucketAggregator), writing them as line protocol. InfluxDB's own statement reads every point
 *   once per function: it cost InfluxDB 3–5 times the CPU, and InfluxDB and the service together 2–4
 *   times (docs/benchmarks.md, item 45). A group whose points the aggregator cannot take exactly (an
 *   integer beyond 2^53, a field with two types) is left to that statement (`downsampleStatement`);
 * - does that work in a worker thread (AggregatorThread; DOWNSAMPLE_THREAD), so that it never holds
 *   the event loop answering pushes (item 48);
 * - waits while the writer is behind (its points are not in InfluxDB yet), up to 15 minutes;
 * - runs in one replica at a time (a lock in Redis; without Redis, every replica runs it: the results
 *   are the same, written twice).
 * Writing a bucket again is harmless: InfluxDB keeps one value per series and time.
 */
@Injectable()
export class DownsamplerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly levels: DownsampleLevel[];
  private readonly due = new Map<DownsampleLevel['rp'], number>();
  private readonly deferredSince = new Map<DownsampleLevel['rp'], number>();
  private readonly owner = randomUUID();
  private readonly rawRetentionMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    @Inject(InfluxClient) private readonly influx: InfluxClient,
    @Inject(InfluxSchemaService) private readonly schema: InfluxSchemaService,
    @Inject(BackpressureService) private readonly backpressure: BackpressureService,
    @Inject(INGEST_REDIS) private readonly redis: Redis,
    @Inject(BackfillMarks) private readonly backfill: BackfillMarks,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(INGEST_METRICS) private readonly metrics: IngestMetrics,
    @Inject(GROUP_AGGREGATOR) private readonly aggregator: GroupAggregator,
  ) {
    this.levels = downsampleLevels(config);
    this.rawRetentionMs = retentionMs(config.RAW_RETENTION);
  }

  onApplicationBootstrap(): void {
    const now = Date.now();
    for (const level of this.levels) this.due.set(level.rp, nextRunAt(level, now));
    // a run missed while no replica ran (or never made) is due at once
    void this.catchUpDue();
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
    await this.aggregator.close();
  }

  /** Runs every level that is due (one run at a time in this replica). */
  async tick(now = Date.now()): Promise<void> {
    if (this.running || this.stopped || !this.schema.isReady) return;
    const work = (async () => {
      for (const level of this.levels) {
        if (this.stopped || now < (this.due.get(level.rp) ?? 0)) continue;
        const outcome = await this.run(level.rp, now);
        if (outcome === 'deferred') continue; // looked at again on the next tick
        this.due.set(level.rp, outcome === 'failed' ? now + RETRY_MS : nextRunAt(level, now));
      }
    })();
    this.running = work;
    try {
      await work;
    } finally {
      this.running = undefined;
    }
  }

  /** One run of a level now (the schedule calls this; tests may too); runs of one replica go one after another. */
  run(rp: DownsampleLevel['rp'], now = Date.now(), opts: { waitForWriter?: boolean } = {}): Promise<RunOutcome> {
    const next = this.queue.then(() => this.runNow(rp, now, opts));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(rp: DownsampleLevel['rp'], now: number, opts: { waitForWriter?: boolean }): Promise<RunOutcome> {
    const level = this.levels.find((l) => l.rp === rp);
    if (!level) throw new Error(`no downsampling level ${rp}`);
    const backlog = this.backpressure.lastReading.backlog;
    if (opts.waitForWriter !== false && backlog > DEFER_BACKLOG) {
      const since = this.deferredSince.get(rp) ?? now;
      this.deferredSince.set(rp, since);
      if (now - since < MAX_DEFER_MS) {
        this.metrics.downsampleRuns.inc({ level: rp, outcome: 'deferred' });
        return 'deferred';
      }
      this.logger.warn({ level: rp, backlog }, 'downsampling runs although the InfluxDB writer is still behind; a later run counts the rest');
    }
    this.deferredSince.delete(rp);
    const lockKey = downsampleLockKey(this.config.INFLUX_DATABASE, rp);
    const lockMs = 2 * QUERY_TIMEOUT_MS;
    let locked = true;
    try {
      locked = (await this.redis.set(lockKey, this.owner, 'PX', lockMs, 'NX')) === 'OK';
      if (!locked) {
        this.metrics.downsampleRuns.inc({ level: rp, outcome: 'elsewhere' });
        return 'elsewhere';
      }
    } catch (err) {
      this.logger.warn({ err, level: rp }, 'downsampling lock unavailable (Redis); running without it');
      locked = false;
    }
    const started = Date.now();
    try {
      const doneRaw = await this.redis.hget(downsampleDoneKey(this.config.INFLUX_DATABASE), rp).catch(() => null);
      const done = doneRaw === null ? undefined : Number(doneRaw);
      const { from, to } = runRange(level, now, Number.isFinite(done) ? done : undefined, this.config.DOWNSAMPLE_CATCH_UP_MS);
      const db = this.config.INFLUX_DATABASE;
      const [listed] = await this.influx.query(agentsStatement(db, from, to), { timeoutMs: QUERY_TIMEOUT_MS });
      const agents = new Set<string>();
      for (const s of listed?.series ?? []) for (const row of s.values ?? []) agents.add(String(row[1]));
      // Agents marked by the accept path for points older than the range: from their oldest point
      // on (grouped with agents of similar marks), once the writer has stored those points: marked
      // before the oldest message the writer still has to write was stored, and 10 s ago at least.
      const writtenBefore = now - this.backpressure.lastReading.lagMs - MARK_SETTLE_MS;
      const marks = (await this.backfill.marked(rp, MAX_MARKS_PER_RUN)).filter((m) => m.markedAt < writtenBefore);
      const backfills = marks.filter((m) => m.time < from);
      const types = await this.influx.fieldTypes(db, 'raw', { timeoutMs: QUERY_TIMEOUT_MS });
      let queries = 0;
      let byStatement = 0;
      const ask = async (group: readonly string[], start: number, end: number) => {
        if (this.stopped) throw new Error('the service is stopping');
        const t0 = Date.now();
        const here = await this.aggregateHere(level, group, start, end, types);
        if (!here) {
          await this.influx.query(downsampleStatement(db, level, group, start, end), { db, timeoutMs: QUERY_TIMEOUT_MS });
          byStatement++;
        }
        this.metrics.downsampleGroups.inc({ level: rp, by: here ? 'ingest' : 'influxdb' });
        queries++;
        if (locked) await this.redis.eval(RENEW, 1, lockKey, this.owner, lockMs).catch(() => undefined);
        const pause = (Date.now() - t0) * this.config.DOWNSAMPLE_PAUSE_RATIO;
        if (pause > 0) await sleep(pause);
      };
      for (const group of chunked([...agents].sort(), this.config.DOWNSAMPLE_AGENTS_PER_QUERY)) await ask(group, from, to);
      for (const group of chunked(backfills, this.config.DOWNSAMPLE_AGENTS_PER_QUERY)) {
        // marks come oldest first: the group's first reaches furthest back
        await ask(
          group.map((m) => m.agent),
          Math.floor(Math.max(group[0]!.time, now - this.rawRetentionMs) / level.bucketMs) * level.bucketMs,
          from,
        );
      }
      // marks at or after `from` were covered by the range itself
      await this.backfill.clear(rp, marks);
      await this.redis.hset(downsampleDoneKey(this.config.INFLUX_DATABASE), rp, String(now)).catch((err: unknown) => this.logger.warn({ err, level: rp }, 'downsampling progress could not be recorded (Redis); the next run reaches further back'));
      const seconds = (Date.now() - started) / 1000;
      this.metrics.downsampleRuns.inc({ level: rp, outcome: 'ok' });
      this.metrics.downsampleSeconds.observe({ level: rp }, seconds);
      this.metrics.downsampleLastSuccess.set({ level: rp }, now / 1000);
      this.logger.info({ level: rp, from: new Date(from).toISOString(), to: new Date(to).toISOString(), agents: agents.size, backfilled: backfills.length, queries, byStatement, seconds }, 'downsampled');
      return 'ok';
    } catch (err) {
      this.metrics.downsampleRuns.inc({ level: rp, outcome: 'failed' });
      this.logger.warn({ err, level: rp }, 'downsampling run failed; retrying in a minute');
      return 'failed';
    } finally {
      if (locked) await this.redis.eval(RELEASE, 1, lockKey, this.owner).catch(() => undefined);
    }
  }

  /**
   * One group's aggregates computed by ingest from its raw points (aggregateGroup, in the downsampling
   * thread unless DOWNSAMPLE_THREAD is off) and written into the level's retention policy. False when
   * the points hold something the aggregator leaves to InfluxDB (see BucketAggregator); what was
   * written by then is written again by the statement, which replaces it.
   */
  private async aggregateHere(level: DownsampleLevel, agents: readonly string[], from: number, to: number, types: FieldTypesByMeasurement): Promise<boolean> {
    const db = this.config.INFLUX_DATABASE;
    const outcome = await this.aggregator.aggregate({
      statement: rawPointsStatement(db, agents, from, to),
      db,
      rp: level.rp,
      bucketMs: level.bucketMs,
      types,
      chunkRows: CHUNK_ROWS,
      writeLines: WRITE_LINES,
      timeoutMs: QUERY_TIMEOUT_MS,
    });
    if (!outcome.here) this.logger.debug({ level: level.rp, reason: outcome.reason }, 'a downsampling group left to InfluxDB');
    return outcome.here;
  }

  /** Levels whose last run (recorded in Redis) is more than a period ago are due now. */
  private async catchUpDue(now = Date.now()): Promise<void> {
    try {
      const done = await this.redis.hgetall(downsampleDoneKey(this.config.INFLUX_DATABASE));
      for (const level of this.levels) {
        const at = Number(done[level.rp]);
        if (!Number.isFinite(at) || now - at > level.everyMs) this.due.set(level.rp, now);
      }
    } catch {
      // Redis unavailable: the regular schedule stands
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
