import { Registry } from 'prom-client';
import type { Logger } from 'pino';
import { TelemetryLines, type Condition, type LinesFilter, type StoredPoint } from '@agentmon/contracts';
import { RetryLater, type EventBus } from '@agentmon/messaging';
import { AlertingMetrics } from '../metrics/alerting-metrics.js';
import { RedisKeys } from '../redis/redis-keys.js';
import type { LoadedRule, RuleCache } from '../rules/rule-cache.service.js';
import type { AlertStateService } from '../alerts/alert-state.service.js';
import type { AgentDirectory } from '../agents/agent-directory.service.js';
import { leavesOf, type EvaluationResult, type Leaf } from './condition.js';
import type { Sample } from './aggregation.js';
import { RuleEvaluator } from './rule-evaluator.service.js';
import type { BatchTraces, EvaluationStore, WindowUpdate } from './sample-store.js';
import { TelemetryEvaluator } from './telemetry-evaluator.service.js';
import { watchPlan } from './watch-plan.js';

function rule(id: string, condition: Condition): LoadedRule {
  const leaves = leavesOf(condition);
  return {
    id,
    name: id,
    severity: 'critical',
    forMs: 0,
    scope: {},
    condition,
    labels: {},
    channels: [],
    revision: 1,
    updatedAt: 0,
    thresholdLeaves: leaves.filter((l): l is Extract<Leaf, { kind: 'threshold' }> => l.kind === 'threshold'),
    absenceLeaves: leaves.filter((l): l is Extract<Leaf, { kind: 'absence' }> => l.kind === 'absence'),
  };
}
const cpuOver90 = rule('cpu-hot', { type: 'threshold', measurement: 'cpu', field: 'usage', aggregation: 'last', window: '1m', op: '>', value: 90 });
const silent = rule('silent', { type: 'absence', for: '1h' });

/** Lines that count how they are decoded. */
class CountingLines extends TelemetryLines {
  readonly filters: LinesFilter[] = [];
  override points(filter: LinesFilter = {}): StoredPoint[] {
    this.filters.push(filter);
    return super.points(filter);
  }
}
function batch(agents: number, cpuOf: (i: number) => number): CountingLines {
  const points: StoredPoint[] = [];
  for (let i = 0; i < agents; i++) {
    points.push({ agent_id: `a${i}`, measurement: 'cpu', tags: {}, fields: { usage: cpuOf(i) }, time: 1_000 + i });
    points.push({ agent_id: `a${i}`, measurement: 'disk', tags: {}, fields: { used: 1 }, time: 1_000 + i });
  }
  return new CountingLines(TelemetryLines.fromPoints(points).data);
}

/**
 * The evaluator over stand-ins of Redis, PostgreSQL and the registry that record what they are asked.
 * `registry`: the agents the registry knows, with their tags (every agent, untagged, when not given).
 */
function setup(rules: LoadedRule[], registry?: Map<string, Record<string, string>>) {
  const calls = { lastSeenMany: [] as string[][], addAndReadMany: [] as WindowUpdate[][], recordBatch: [] as BatchTraces[], openAlertsOf: 0, applied: [] as string[], expired: [] as string[] };
  const store = {
    keys: new RedisKeys('t:'),
    lastSeenMany: async (ids: readonly string[]) => {
      calls.lastSeenMany.push([...ids]);
      return new Map(ids.map((id) => [id, new Map<string, number>()]));
    },
    addAndReadMany: async (updates: readonly WindowUpdate[]) => {
      calls.addAndReadMany.push([...updates]);
      return updates.map((u) => [...u.samples] as Sample[]);
    },
    recordBatch: async (traces: BatchTraces) => {
      calls.recordBatch.push(traces);
    },
  } as unknown as EvaluationStore;
  const alerts = {
    openAlertsOf: async () => {
      calls.openAlertsOf++;
      return new Map();
    },
    apply: async (r: LoadedRule, agentId: string, result: EvaluationResult) => {
      calls.applied.push(`${r.id}/${agentId}/${result.matches}`);
      return { transition: { kind: 'open' }, alertId: 'x', open: { status: 'firing', startedAt: 0 } };
    },
  } as unknown as AlertStateService;
  const cache = { watching: async () => ({ rules, plan: watchPlan(rules) }) } as unknown as RuleCache;
  const agents = {
    get: async (id: string) => (registry === undefined || registry.has(id) ? { id, tags: registry?.get(id) ?? {}, groups: [], registered: true } : { id, tags: {}, groups: [], registered: false }),
    expire: (id: string) => calls.expired.push(id),
  } as unknown as AgentDirectory;
  const metrics = new AlertingMetrics(new Registry());
  const evaluator = new TelemetryEvaluator(
    {} as EventBus,
    cache,
    new RuleEvaluator(store, alerts, metrics),
    alerts,
    agents,
    store,
    metrics,
    {} as Logger,
  );
  return { evaluator, calls };
}

describe('TelemetryEvaluator', () => {
  it('with no enabled rule, a batch is not decoded and costs no Redis or database work', async () => {
    const { evaluator, calls } = setup([]);
    const lines = batch(10, () => 99);
    await evaluator.evaluateBatch(lines);
    expect(lines.filters).toEqual([]);
    expect(calls).toEqual({ lastSeenMany: [], addAndReadMany: [], recordBatch: [], openAlertsOf: 0, applied: [], expired: [] });
  });

  it('decodes only the measurements rules read; windows of every agent in one call, no last-seen work without absence rules', async () => {
    const { evaluator, calls } = setup([cpuOver90]);
    const lines = batch(50, (i) => (i === 7 ? 95 : 10));
    await evaluator.evaluateBatch(lines);
    expect(lines.filters).toEqual([{ measurements: new Set(['cpu']) }]);
    expect(calls.addAndReadMany).toHaveLength(1);
    expect(calls.addAndReadMany[0]).toHaveLength(50);
    expect(calls.addAndReadMany[0]![7]).toMatchObject({ key: 't:samples:cpu-hot:1:0:a7', samples: [{ t: 1_007, v: 95 }] });
    expect(calls.openAlertsOf).toBe(1);
    expect(calls.lastSeenMany.flat()).toEqual([]);
    expect(calls.recordBatch).toEqual([{ absenceAgents: [], seen: new Map(), backOnline: [] }]);
    expect(calls.applied).toEqual(['cpu-hot/a7/true']);
  });

  it('a measurement-less absence rule reads every line, the last-seen times of all agents at once, and records them together', async () => {
    const { evaluator, calls } = setup([cpuOver90, silent]);
    const lines = batch(3, () => 10);
    await evaluator.evaluateBatch(lines);
    expect(lines.filters).toEqual([{}]);
    expect(calls.lastSeenMany).toEqual([['a0', 'a1', 'a2']]);
    expect(calls.addAndReadMany).toHaveLength(1);
    expect(calls.recordBatch).toHaveLength(1);
    const traces = calls.recordBatch[0]!;
    expect(traces.absenceAgents).toEqual([{ ruleId: 'silent', revision: 1, agentIds: ['a0', 'a1', 'a2'] }]);
    expect(traces.seen).toEqual(
      new Map([
        ['a0', new Map([['*', 1_000]])],
        ['a1', new Map([['*', 1_001]])],
        ['a2', new Map([['*', 1_002]])],
      ]),
    );
    expect(traces.backOnline).toEqual(['a0', 'a1', 'a2']);
  });

  describe('an agent the registry does not know yet, under a rule scoped by tags', () => {
    const prodCpu = { ...rule('prod-cpu', cpuOver90.condition), scope: { tags: { env: 'prod' } } };

    it('waits on the first deliveries (RetryLater, nothing evaluated or recorded), so that the registry can register it', async () => {
      const { evaluator, calls } = setup([prodCpu], new Map([['a0', { env: 'prod' }]]));
      const lines = batch(2, () => 95);
      for (const delivery of [1, 2]) {
        const failed = await evaluator.evaluateBatch(lines, delivery).catch((err: unknown) => err);
        expect(failed).toBeInstanceOf(RetryLater);
        expect((failed as RetryLater).message).toBe('the registry does not know a1 yet');
        expect((failed as RetryLater).delayMs).toBeGreaterThan(0);
      }
      // the lookup is asked again on the next delivery, not answered from the cache
      expect(calls.expired).toEqual(['a1', 'a1']);
      expect(calls.applied).toEqual([]);
      expect(calls.recordBatch).toEqual([]);
    });

    it('is evaluated once the registry knows it, with its tags', async () => {
      const registry = new Map([['a0', { env: 'prod' }]]);
      const { evaluator, calls } = setup([prodCpu], registry);
      const lines = batch(2, () => 95);
      await expect(evaluator.evaluateBatch(lines, 1)).rejects.toBeInstanceOf(RetryLater);
      registry.set('a1', { env: 'prod' });
      await evaluator.evaluateBatch(lines, 2);
      expect(calls.applied).toEqual(['prod-cpu/a0/true', 'prod-cpu/a1/true']);
    });

    it('is evaluated with what is known from the third delivery on: the batch does not wait for ever', async () => {
      const { evaluator, calls } = setup([prodCpu], new Map([['a0', { env: 'prod' }]]));
      await evaluator.evaluateBatch(batch(2, () => 95), 3);
      expect(calls.applied).toEqual(['prod-cpu/a0/true']);
      expect(calls.recordBatch).toHaveLength(1);
    });

    it('does not wait when no rule needs the agent\'s tags or groups', async () => {
      const { evaluator, calls } = setup([cpuOver90], new Map());
      await evaluator.evaluateBatch(batch(2, () => 95), 1);
      expect(calls.applied).toEqual(['cpu-hot/a0/true', 'cpu-hot/a1/true']);
      expect(calls.expired).toEqual([]);
    });
  });
});
