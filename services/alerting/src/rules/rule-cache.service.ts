import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import type { Redis } from 'ioredis';
import type { Condition, Severity } from '@agentmon/contracts';
import { REDIS } from '../redis/redis.module.js';
import { RedisKeys } from '../redis/redis-keys.js';
import { leavesOf, type Leaf } from '../evaluation/condition.js';
import { watchPlan, type WatchPlan } from '../evaluation/watch-plan.js';
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
 * How long a replica uses its copy before it asks Redis for the version again. A change made on
 * this replica is seen at once; one made on another replica within this time (instead of a Redis
 * round trip for every telemetry batch).
 */
export const VERSION_CHECK_MS = 250;

/**
 * The enabled rules, cached per replica and reloaded when the version key in Redis changes (every
 * rule change bumps it): a rule changed on this replica is evaluated from the next batch on, on
 * the others within VERSION_CHECK_MS.
 */
@Injectable()
export class RuleCache {
  private rules: LoadedRule[] = [];
  private plan: WatchPlan = watchPlan([]);
  private version: string | null | undefined;
  private loadedAt = 0;
  private checkedAt = 0;
  /** bumped by every local change, so that a load that started before it does not count as fresh */
  private generation = 0;
  private loading: { generation: number; promise: Promise<LoadedRule[]> } | null = null;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async enabledRules(): Promise<LoadedRule[]> {
    const now = Date.now();
    if (this.version !== undefined && now - this.checkedAt < VERSION_CHECK_MS && now - this.loadedAt < MAX_AGE_MS) return this.rules;
    const version = await this.redis.get(this.keys.rulesVersion());
    if (this.version !== undefined && version === this.version && Date.now() - this.loadedAt < MAX_AGE_MS) {
      this.checkedAt = Date.now();
      return this.rules;
    }
    if (this.loading?.generation !== this.generation) {
      const generation = this.generation;
      const promise: Promise<LoadedRule[]> = this.load(version, generation).finally(() => {
        if (this.loading?.promise === promise) this.loading = null;
      });
      this.loading = { generation, promise };
    }
    return this.loading.promise;
  }

  /** The enabled rules with what they need from telemetry (see WatchPlan). */
  async watching(): Promise<{ rules: LoadedRule[]; plan: WatchPlan }> {
    const rules = await this.enabledRules();
    // the plan belongs to the rules it was made from (a load may have replaced them meanwhile)
    if (rules !== this.rules) return { rules, plan: watchPlan(rules) };
    return { rules, plan: this.plan };
  }

  /** Called after a rule change is committed. */
  async bumpVersion(): Promise<void> {
    this.generation++;
    this.version = undefined;
    await this.redis.incr(this.keys.rulesVersion());
  }

  private async load(version: string | null, generation: number): Promise<LoadedRule[]> {
    const rows = await this.ds.getRepository(AlertRuleEntity).find({ where: { enabled: true, deletedAt: IsNull() } });
    const rules = rows.map(loadRule);
    // a load that a local change overtook answers its callers but is not kept
    if (generation === this.generation) {
      this.rules = rules;
      this.plan = watchPlan(rules);
      this.version = version;
      this.loadedAt = Date.now();
      this.checkedAt = this.loadedAt;
    }
    return rules;
  }
}
