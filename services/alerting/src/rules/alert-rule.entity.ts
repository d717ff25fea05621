import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Condition, Severity } from '@agentmon/contracts';
import { bigintAsNumber } from '../persistence/transformers.js';

export interface RuleScope {
  group_ids?: string[];
  agent_ids?: string[];
  tags?: Record<string, string>;
}

/** An alert rule. Deleting one keeps the row (deleted_at) so that its alerts keep their history. */
@Entity({ name: 'alert_rules' })
export class AlertRuleEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'text' })
  severity!: Severity;

  @Column({ type: 'boolean' })
  enabled!: boolean;

  /** the rule's `for` as written */
  @Column({ name: 'for_duration', type: 'text' })
  forDuration!: string;

  /** the rule's `for` in milliseconds, for SQL that finds pending alerts that are due */
  @Column({ name: 'for_ms', type: 'bigint', transformer: bigintAsNumber })
  forMs!: number;

  @Column({ type: 'jsonb' })
  scope!: RuleScope;

  @Column({ type: 'jsonb' })
  condition!: Condition;

  @Column({ type: 'jsonb' })
  labels!: Record<string, string>;

  @Column({ name: 'group_by', type: 'jsonb', nullable: true })
  groupBy!: string[] | null;

  /** notification channel ids (owned by the notification service) */
  @Column({ type: 'jsonb' })
  channels!: string[];

  @Column({ name: 'escalation_policy_id', type: 'uuid', nullable: true })
  escalationPolicyId!: string | null;

  /** incremented on every update; evaluation state in Redis is keyed by it */
  @Column({ type: 'integer' })
  revision!: number;

  @Column({ name: 'created_by', type: 'text', nullable: true })
  createdBy!: string | null;

  @Column({ name: 'updated_by', type: 'text', nullable: true })
  updatedBy!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;
}
