import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AuditEvent } from '@agentmon/contracts';

/**
 * Audit events written in the same transaction as the change they describe, then published on
 * JetStream; published_at stays null until the stream stored it, and the tick retries those.
 */
@Entity({ name: 'audit_outbox' })
export class AuditOutboxEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'jsonb' })
  payload!: AuditEvent;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;
}
