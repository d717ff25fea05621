import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One audited fact from any service. Append-only: a trigger refuses UPDATE and DELETE. */
@Entity('audit_logs')
export class AuditLogEntity {
  /** the event id, so a redelivered event is stored once */
  @PrimaryColumn('uuid')
  id!: string;

  @Column('timestamp with time zone', { precision: 3 })
  at!: Date;

  @Column('text', { name: 'actor_kind' })
  actorKind!: 'user' | 'api_key' | 'system' | 'anonymous';

  @Column('text', { name: 'actor_id' })
  actorId!: string;

  @Column('text', { name: 'actor_username', nullable: true })
  actorUsername!: string | null;

  @Column('text')
  action!: string;

  @Column('text', { name: 'resource_type' })
  resourceType!: string;

  @Column('text', { name: 'resource_id', nullable: true })
  resourceId!: string | null;

  @Column('text')
  outcome!: 'success' | 'failure';

  @Column('text', { nullable: true })
  ip!: string | null;

  @Column('jsonb', { nullable: true })
  before!: unknown;

  @Column('jsonb', { nullable: true })
  after!: unknown;

  @Column('text')
  service!: string;

  @Column('text', { name: 'request_id', nullable: true })
  requestId!: string | null;

  @Column('timestamp with time zone', { name: 'recorded_at', precision: 3 })
  recordedAt!: Date;
}
