import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ChannelType } from '@agentmon/contracts';

/**
 * A notification channel. `config` holds only what may be shown (the public view, secrets
 * replaced by `has_*` flags and masked URLs); `secrets` holds the AES-256-GCM sealed JSON of the
 * whole delivery config, bound to the row's id.
 */
@Entity({ name: 'notification_channels' })
export class NotificationChannelEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar', length: 256 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  type!: ChannelType;

  @Column({ type: 'jsonb' })
  config!: Record<string, unknown>;

  @Column({ type: 'text' })
  secrets!: string;

  @Column({ name: 'created_by', type: 'varchar', length: 128, nullable: true })
  createdBy!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
