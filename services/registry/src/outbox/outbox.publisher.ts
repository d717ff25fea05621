import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { AppError, type EventPayloadInput, type EventSubject } from '@agentmon/contracts';
import { EventBus } from '@agentmon/messaging';
import { LOGGER } from '../logger.token.js';
import { OutboxEntity } from './outbox.entity.js';

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
        for (const row of rows) {
          try {
            await this.bus.publish(row.subject, row.payload as never, { msgId: row.id });
          } catch (err) {
            if (err instanceof AppError && err.statusCode === 400) {
              // A payload that breaks its contract can never be published: record it and move on.
              this.logger.error({ err, subject: row.subject, outbox_id: row.id }, 'outbox event breaks its contract; dropped');
            } else {
              this.logger.warn({ err, subject: row.subject }, 'outbox publish failed; will retry');
              return -1;
            }
          }
          await em.query('UPDATE outbox SET published_at = now() WHERE id = $1', [row.id]);
        }
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
