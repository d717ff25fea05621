import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { AppError, type EventPayloadInput, type EventSubject } from '@agentmon/contracts';
import { EventBus } from '@agentmon/messaging';
import { LOGGER } from '../logger.token.js';
import { OutboxEntity } from './outbox.entity.js';

/** An event to record: a subject with its payload. */
export type OutboxEvent = { [S in EventSubject]: { subject: S; payload: EventPayloadInput<S> } }[EventSubject];

/** Records events inside the caller's transaction and publishes them to JetStream afterwards. */
@Injectable()
export class OutboxPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastCleanup = 0;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async record<S extends EventSubject>(em: EntityManager, subject: S, payload: EventPayloadInput<S>): Promise<void> {
    await em.insert(OutboxEntity, { subject, payload: payload as object });
  }

  /** Several events with one statement. */
  async recordMany(em: EntityManager, events: readonly OutboxEvent[]): Promise<void> {
    if (events.length) await em.insert(OutboxEntity, events.map((e) => ({ subject: e.subject, payload: e.payload as object })));
  }

  /** Publishes pending events now (called after a commit) instead of waiting for the next sweep. */
  flushSoon(): void {
    setImmediate(() => void this.flush());
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), 1000);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async flush(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.publishPending().finally(() => (this.running = undefined));
    return this.running;
  }

  private async publishPending(): Promise<void> {
    // SKIP LOCKED lets several replicas share the work without publishing a row twice at once.
    for (;;) {
      const published = await this.ds.transaction(async (em) => {
        const rows: { id: string; subject: EventSubject; payload: unknown }[] = await em.query(
          `SELECT id, subject, payload FROM outbox WHERE published_at IS NULL
           ORDER BY created_at LIMIT 100 FOR UPDATE SKIP LOCKED`,
        );
        // all the page's publishes leave in one socket write and are stored in this order; one UPDATE
        // marks them (a publish and an UPDATE per row cost a round trip each: after 10,000 agents
        // registered at once, draining their 20,000 events was most of what the registry did)
        const outcomes = await Promise.allSettled(rows.map((row) => this.bus.publish(row.subject, row.payload as never, { msgId: row.id })));
        const done: string[] = [];
        for (const [i, outcome] of outcomes.entries()) {
          const row = rows[i]!;
          if (outcome.status === 'rejected') {
            const err: unknown = outcome.reason;
            if (err instanceof AppError && err.statusCode === 400) {
              // A payload that breaks its contract can never be published: record it and move on.
              this.logger.error({ err, subject: row.subject, outbox_id: row.id }, 'outbox event breaks its contract; dropped');
            } else {
              // this row and the rest are published again later (JetStream drops the duplicates by id)
              this.logger.warn({ err, subject: row.subject }, 'outbox publish failed; will retry');
              break;
            }
          }
          done.push(row.id);
        }
        if (done.length) await em.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1)', [done]);
        if (done.length < rows.length) return -1;
        return rows.length;
      });
      if (published < 100) break;
    }
    if (Date.now() - this.lastCleanup > 3_600_000) {
      this.lastCleanup = Date.now();
      await this.ds.query(`DELETE FROM outbox WHERE published_at < now() - interval '1 day'`);
    }
  }
}
