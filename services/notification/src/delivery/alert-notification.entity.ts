import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ChannelType, NotificationEvent } from '@agentmon/contracts';

/**
 * One delivery attempt of one alert event to one channel. Rows are never updated; the history
 * stays when the channel is deleted (so no foreign key).
 */
@Entity({ name: 'alert_notifications' })
export class AlertNotificationEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'alert_id', type: 'varchar', length: 128 })
  alertId!: string;

  @Column({ name: 'rule_id', type: 'varchar', length: 128, nullable: true })
  ruleId!: string | null;

  @Column({ name: 'channel_id', type: 'uuid' })
  channelId!: string;

  @Column({ name: 'channel_type', type: 'varchar', length: 16 })
  channelType!: ChannelType;

  @Column({ type: 'varchar', length: 16 })
  event!: NotificationEvent;

  @Column({ type: 'int' })
  attempt!: number;

  @Column({ type: 'varchar', length: 16 })
  status!: 'delivered' | 'failed';

  @Column({ name: 'response_code', type: 'int', nullable: true })
  responseCode!: number | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /** true on the failed attempt after which no further attempt is made */
  @Column({ name: 'final', type: 'boolean', default: false })
  final!: boolean;

  @Column({ name: 'duration_ms', type: 'int', nullable: true })
  durationMs!: number | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
