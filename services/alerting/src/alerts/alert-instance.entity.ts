import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Severity } from '@agentmon/contracts';
import { nullableNumber } from '../persistence/transformers.js';

export type AlertStatus = 'pending' | 'firing' | 'resolved';

/**
 * One alert of one rule on one agent. At most one per (rule, agent) is open (pending or firing): a
 * partial unique index enforces it. fired/resolved events are an outbox: *_published_at stays null
 * until JetStream stored the event.
 */
@Entity({ name: 'alert_instances' })
export class AlertInstanceEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'rule_id', type: 'uuid' })
  ruleId!: string;

  /** the rule's name when the alert last changed (rules may be renamed or deleted later) */
  @Column({ name: 'rule_name', type: 'text' })
  ruleName!: string;

  @Column({ name: 'agent_id', type: 'text' })
  agentId!: string;

  @Column({ type: 'text' })
  status!: AlertStatus;

  @Column({ type: 'text' })
  severity!: Severity;

  @Column({ type: 'double precision', nullable: true, transformer: nullableNumber })
  value!: number | null;

  @Column({ type: 'double precision', nullable: true, transformer: nullableNumber })
  threshold!: number | null;

  @Column({ type: 'text' })
  summary!: string;

  @Column({ type: 'jsonb' })
  labels!: Record<string, string>;

  /** groups of the agent when the alert opened (for the active-alerts group filter) */
  @Column({ name: 'agent_groups', type: 'text', array: true })
  agentGroups!: string[];

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'fired_at', type: 'timestamptz', nullable: true })
  firedAt!: Date | null;

  /** value and summary at the moment it fired, so the fired event says what fired even if sent late */
  @Column({ name: 'fired_value', type: 'double precision', nullable: true, transformer: nullableNumber })
  firedValue!: number | null;

  @Column({ name: 'fired_summary', type: 'text', nullable: true })
  firedSummary!: string | null;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt!: Date | null;

  @Column({ name: 'last_evaluated_at', type: 'timestamptz' })
  lastEvaluatedAt!: Date;

  @Column({ name: 'acknowledged_by', type: 'text', nullable: true })
  acknowledgedBy!: string | null;

  @Column({ name: 'acknowledged_at', type: 'timestamptz', nullable: true })
  acknowledgedAt!: Date | null;

  @Column({ name: 'fired_published_at', type: 'timestamptz', nullable: true })
  firedPublishedAt!: Date | null;

  @Column({ name: 'resolved_published_at', type: 'timestamptz', nullable: true })
  resolvedPublishedAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
