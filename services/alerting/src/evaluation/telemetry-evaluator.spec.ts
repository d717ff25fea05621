import { Registry } from 'prom-client';
import type { Logger } from 'pino';
import { TelemetryLines, type Condition, type LinesFilter, type StoredPoint } from '@agentmon/contracts';
import type { EventBus } from '@agentmon/messaging';
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

/** The evaluator over stand-ins of Redis, PostgreSQL and the registry that record what they are asked. */
function setup(rules: LoadedRule[]) {
  const calls = { lastSeenMany: [] as string[][], addAndReadMany: [] as WindowUpdate[][], recordBatch: [] as BatchTraces[], openAlertsOf: 0, applied: [] as string[] };
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
  const agents = { get: async (id: string) => ({ id, tags: {}, groups: [], registered: true }) } as unknown as AgentDirectory;
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
    expect(calls).toEqual({ lastSeenMany: [], addAndReadMany: [], recordBatch: [], openAlertsOf: 0, applied: [] });
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
});
