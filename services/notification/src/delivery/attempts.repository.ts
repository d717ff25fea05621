import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { ChannelType, NotificationAttempt, NotificationEvent } from '@agentmon/contracts';
import { AlertNotificationEntity } from './alert-notification.entity.js';

export interface ChannelProgress {
  attempts: number;
  delivered: boolean;
}

export interface NewAttempt {
  alertId: string;
  ruleId: string | null;
  channelId: string;
  channelType: ChannelType;
  event: NotificationEvent;
  attempt: number;
  delivered: boolean;
  responseCode: number | null;
  error: string | null;
  final: boolean;
  durationMs: number | null;
}

const MAX_LISTED = 1000;

/** alert_notifications: the record of every attempt, and what tells a retry where it stands. */
@Injectable()
export class AttemptsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Per channel: how many attempts this (alert, event) had, and whether one was delivered. */
  async progress(alertId: string, event: NotificationEvent, channelIds: string[]): Promise<Map<string, ChannelProgress>> {
    const out = new Map<string, ChannelProgress>(channelIds.map((id) => [id, { attempts: 0, delivered: false }]));
    if (channelIds.length === 0) return out;
    const rows: { channel_id: string; attempts: string; delivered: boolean }[] = await this.ds.query(
      `SELECT channel_id, count(*) AS attempts, bool_or(status = 'delivered') AS delivered
         FROM alert_notifications
        WHERE alert_id = $1 AND event = $2 AND channel_id = ANY($3::uuid[])
        GROUP BY channel_id`,
      [alertId, event, channelIds],
    );
    for (const r of rows) out.set(r.channel_id, { attempts: Number(r.attempts), delivered: r.delivered });
    return out;
  }

  async record(a: NewAttempt): Promise<AlertNotificationEntity> {
    const row: AlertNotificationEntity = {
      id: randomUUID(),
      alertId: a.alertId,
      ruleId: a.ruleId,
      channelId: a.channelId,
      channelType: a.channelType,
      event: a.event,
      attempt: a.attempt,
      status: a.delivered ? 'delivered' : 'failed',
      responseCode: a.responseCode,
      error: a.error === null ? null : a.error.slice(0, 1000),
      final: a.final,
      durationMs: a.durationMs,
      createdAt: new Date(),
    };
    await this.ds.getRepository(AlertNotificationEntity).insert(row);
    return row;
  }

  async forAlert(alertId: string): Promise<NotificationAttempt[]> {
    const rows = await this.ds.getRepository(AlertNotificationEntity).find({
      where: { alertId },
      order: { createdAt: 'ASC', attempt: 'ASC' },
      take: MAX_LISTED,
    });
    return rows.map(toAttempt);
  }
}

export function toAttempt(r: AlertNotificationEntity): NotificationAttempt {
  return {
    id: r.id,
    alert_id: r.alertId,
    channel_id: r.channelId,
    channel_type: r.channelType,
    event: r.event,
    attempt: r.attempt,
    status: r.status,
    response_code: r.responseCode,
    error: r.error,
    final: r.final,
    duration_ms: r.durationMs,
    created_at: r.createdAt.toISOString(),
  };
}
