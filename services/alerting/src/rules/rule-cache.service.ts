import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import type { Redis } from 'ioredis';
import type { Condition, Severity } from '@agentmon/contracts';
import { REDIS } from '../redis/redis.module.js';
import { RedisKeys } from '../redis/redis-keys.js';
import { leavesOf, type Leaf } from '../evaluation/condition.js';
import { AlertRuleEntity, type RuleScope } from './alert-rule.entity.js';

/** A rule as the evaluator uses it: parsed once per load. */
export interface LoadedRule {
  id: string;
  name: string;
  severity: Severity;
  forMs: number;
  scope: RuleScope;
  condition: Condition;
  labels: Record<string, string>;
  channels: string[];
  revision: number;
  updatedAt: number;
  thresholdLeaves: Extract<Leaf, { kind: 'threshold' }>[];
  absenceLeaves: Extract<Leaf, { kind: 'absence' }>[];
}

export function loadRule(e: AlertRuleEntity): LoadedRule {
  const leaves = leavesOf(e.condition);
  return {
    id: e.id,
    name: e.name,
    severity: e.severity,
    forMs: e.forMs,
    scope: e.scope,
    condition: e.condition,
    labels: e.labels,
    channels: e.channels,
    revision: e.revision,
    updatedAt: e.updatedAt.getTime(),
    thresholdLeaves: leaves.filter((l): l is Extract<Leaf, { kind: 'threshold' }> => l.kind === 'threshold'),
    absenceLeaves: leaves.filter((l): l is Extract<Leaf, { kind: 'absence' }> => l.kind === 'absence'),
  };
}

/** Longest a replica trusts its copy without a version change (guards against a lost version bump). */
const MAX_AGE_MS = 30_000;

/**
 * The enabled rules, cached per replica and reloaded when the version key in Redis changes (every
 * rule change bumps it), so a rule created on one replica is evaluated by all of them from the next
 * batch on.
 */
@Injectable()
export class RuleCache {
  private rules: LoadedRule[] = [];
  private version: string | null | undefined;
  private loadedAt = 0;
  private loading: Promise<LoadedRule[]> | null = null;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async enabledRules(): Promise<LoadedRule[]> {
    const version = await this.redis.get(this.keys.rulesVersion());
    if (this.version !== undefined && version === this.version && Date.now() - this.loadedAt < MAX_AGE_MS) return this.rules;
    this.loading ??= this.load(version).finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  /** Called after a rule change is committed. */
  async bumpVersion(): Promise<void> {
    await this.redis.incr(this.keys.rulesVersion());
  }

  private async load(version: string | null): Promise<LoadedRule[]> {
    const rows = await this.ds.getRepository(AlertRuleEntity).find({ where: { enabled: true, deletedAt: IsNull() } });
    this.rules = rows.map(loadRule);
    this.version = version;
    this.loadedAt = Date.now();
    return this.rules;
  }
}
