import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, type EntityManager, type QueryDeepPartialEntity } from 'typeorm';
import type { Logger } from 'pino';
import { AppError, type Channel, type ChannelType, type ChannelInput, type PageQuery, type Principal } from '@agentmon/contracts';
import { decodeCursor, encodeCursor } from '@agentmon/persistence';
import { LOGGER } from '../logger.token.js';
import { SecretBox, SecretBoxError } from '../crypto/secret-box.js';
import { AuditPublisher } from '../audit/audit.publisher.js';
import { NotificationChannelEntity } from './notification-channel.entity.js';
import { channelAad, parseDeliveryConfig, publicConfig, type DeliverableChannel } from './channel-config.js';

export type OpenedChannel =
  | { usable: true; channel: DeliverableChannel }
  | { usable: false; id: string; name: string; type: ChannelType; reason: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function toChannel(e: NotificationChannelEntity): Channel {
  return {
    id: e.id,
    name: e.name,
    type: e.type,
    config: e.config,
    created_at: e.createdAt.toISOString(),
    updated_at: e.updatedAt.toISOString(),
  };
}

/**
 * Channels CRUD. Each change and its audit event happen together: the audit event is stored on
 * JetStream before the change commits, so there is no change without its audit record (a failed
 * publish rolls the change back).
 */
@Injectable()
export class ChannelsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(SecretBox) private readonly box: SecretBox,
    @Inject(AuditPublisher) private readonly audit: AuditPublisher,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async create(principal: Principal, input: ChannelInput): Promise<Channel> {
    const id = randomUUID();
    const now = new Date();
    const entity: NotificationChannelEntity = {
      id,
      name: input.name,
      type: input.type,
      config: publicConfig(input),
      secrets: this.box.sealJson(input.config, channelAad(id)),
      createdBy: principal.user_id,
      createdAt: now,
      updatedAt: now,
    };
    const channel = await this.inTransaction(input.name, async (m) => {
      await m.insert(NotificationChannelEntity, entity as QueryDeepPartialEntity<NotificationChannelEntity>);
      const view = toChannel(entity);
      await this.audit.record({ principal, action: 'notification_channel.create', resourceId: id, after: view });
      return view;
    });
    this.logger.info({ channel_id: id, type: input.type }, 'notification channel created');
    return channel;
  }

  async list(page: PageQuery): Promise<{ items: Channel[]; next_cursor: string | null }> {
    const after = decodeCursor<[string, string]>(page.cursor);
    const qb = this.ds.getRepository(NotificationChannelEntity).createQueryBuilder('c').orderBy('c.created_at', 'ASC').addOrderBy('c.id', 'ASC').limit(page.limit + 1);
    if (after) {
      if (!Array.isArray(after) || after.length !== 2 || Number.isNaN(Date.parse(String(after[0]))) || !UUID.test(String(after[1]))) {
        throw new AppError('bad_request', 'cursor is not valid', [{ path: 'cursor', reason: 'not a cursor this endpoint returned' }]);
      }
      qb.where('(c.created_at, c.id) > (:at, :id)', { at: after[0], id: after[1] });
    }
    const rows = await qb.getMany();
    const items = rows.slice(0, page.limit);
    const last = items.at(-1);
    return {
      items: items.map(toChannel),
      next_cursor: rows.length > page.limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
    };
  }

  async get(id: string): Promise<Channel> {
    return toChannel(await this.find(this.ds.manager, id));
  }

  async update(principal: Principal, id: string, input: ChannelInput): Promise<Channel> {
    const channel = await this.inTransaction(input.name, async (m) => {
      const before = await this.find(m, id, true);
      const updated: NotificationChannelEntity = {
        ...before,
        name: input.name,
        type: input.type,
        config: publicConfig(input),
        secrets: this.box.sealJson(input.config, channelAad(id)),
        updatedAt: new Date(),
      };
      const changes = { name: updated.name, type: updated.type, config: updated.config, secrets: updated.secrets, updatedAt: updated.updatedAt };
      await m.update(NotificationChannelEntity, { id }, changes as QueryDeepPartialEntity<NotificationChannelEntity>);
      const view = toChannel(updated);
      await this.audit.record({ principal, action: 'notification_channel.update', resourceId: id, before: toChannel(before), after: view });
      return view;
    });
    this.logger.info({ channel_id: id, type: input.type }, 'notification channel updated');
    return channel;
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.ds.transaction(async (m) => {
      const before = await this.find(m, id, true);
      await m.delete(NotificationChannelEntity, { id });
      await this.audit.record({ principal, action: 'notification_channel.delete', resourceId: id, before: toChannel(before) });
    });
    this.logger.info({ channel_id: id }, 'notification channel deleted');
  }

  /**
   * Channels with their delivery config decrypted, for sending. Unknown ids are left out; a
   * channel whose sealed config cannot be opened (another key, altered row) is returned as unusable
   * so that the attempt is recorded as failed instead of blocking the other channels.
   */
  async deliverable(ids: string[]): Promise<OpenedChannel[]> {
    const valid = [...new Set(ids.filter((id) => UUID.test(id)))];
    if (valid.length === 0) return [];
    const rows = await this.ds.getRepository(NotificationChannelEntity).findBy({ id: In(valid) });
    return rows.map((row) => this.tryOpen(row));
  }

  async deliverableOne(id: string): Promise<OpenedChannel> {
    return this.tryOpen(await this.find(this.ds.manager, id));
  }

  private tryOpen(row: NotificationChannelEntity): OpenedChannel {
    try {
      return { usable: true, channel: this.open(row) };
    } catch (err) {
      const reason =
        err instanceof SecretBoxError
          ? 'the channel secrets cannot be decrypted (was NOTIFICATION_ENCRYPTION_KEY changed?)'
          : 'the stored channel config is not valid';
      this.logger.error({ channel_id: row.id, reason }, 'notification channel unusable');
      return { usable: false, id: row.id, name: row.name, type: row.type, reason };
    }
  }

  private open(row: NotificationChannelEntity): DeliverableChannel {
    const config = this.box.openJson<unknown>(row.secrets, channelAad(row.id));
    return parseDeliveryConfig(row.id, row.name, row.type, config);
  }

  private async find(m: EntityManager, id: string, forUpdate = false): Promise<NotificationChannelEntity> {
    if (!UUID.test(id)) throw AppError.notFound('notification channel', id);
    const row = await m.getRepository(NotificationChannelEntity).findOne({ where: { id }, ...(forUpdate ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!row) throw AppError.notFound('notification channel', id);
    return row;
  }

  /** Runs a change in a transaction and turns a duplicate name into 409. */
  private async inTransaction<T>(name: string, fn: (m: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.ds.transaction(fn);
    } catch (err) {
      const pg = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
      const code = pg.driverError?.code ?? pg.code;
      const constraint = pg.driverError?.constraint ?? pg.constraint;
      if (code === '23505' && constraint === 'notification_channels_name_key') {
        throw new AppError('conflict', `a notification channel named "${name}" already exists`, [
          { path: 'channel.name', reason: 'is already used by another channel' },
        ]);
      }
      throw err;
    }
  }
}
