import type { Logger } from 'pino';
import type { AgentStatusChanged, Condition } from '@agentmon/contracts';
import type { EventBus } from '@agentmon/messaging';
import { loadRule, type LoadedRule, type RuleCache } from '../rules/rule-cache.service.js';
import type { AlertRuleEntity } from '../rules/alert-rule.entity.js';
import type { AlertStateService } from '../alerts/alert-state.service.js';
import type { AgentDirectory } from '../agents/agent-directory.service.js';
import type { RuleEvaluator } from './rule-evaluator.service.js';
import type { EvaluationStore } from './sample-store.js';
import { AgentStatusConsumer } from './agent-status.consumer.js';

/** A rule as the rule cache loads it. */
const rule = (id: string, condition: Condition): LoadedRule =>
  loadRule({ id, name: id, severity: 'critical', forMs: 0, scope: {}, condition, labels: {}, channels: [], revision: 1, updatedAt: new Date(0) } as unknown as AlertRuleEntity);

const T = '2026-11-29T03:00:00.000Z';
const change = (agent_id: string, to: 'online' | 'offline', at = T): AgentStatusChanged => ({ agent_id, from: to === 'offline' ? 'online' : 'offline', to, at });

/** The consumer with fakes that record what it asks of Redis and the evaluator (logic only). */
function harness(rules: LoadedRule[]) {
  const calls = { setOffline: [] as [string, number][][], clearOffline: [] as string[][], expired: [] as string[], checked: [] as string[] };
  const store = {
    setOffline: async (since: ReadonlyMap<string, number>) => void (since.size && calls.setOffline.push([...since])),
    clearOffline: async (ids: string[]) => void (ids.length && calls.clearOffline.push(ids)),
    addAbsenceAgent: async () => undefined,
  } as unknown as EvaluationStore;
  const consumer = new AgentStatusConsumer(
    {} as EventBus,
    { enabledRules: async () => rules } as unknown as RuleCache,
    { checkNow: async (r: LoadedRule, agentId: string) => void calls.checked.push(`${r.id}:${agentId}`) } as unknown as RuleEvaluator,
    { openAlertsOf: async () => new Map() } as unknown as AlertStateService,
    { expire: (id: string) => void calls.expired.push(id), get: async () => ({ registered: true, tags: {}, groups: [] }) } as unknown as AgentDirectory,
    store,
    { debug: () => undefined } as unknown as Logger,
  );
  return { consumer, calls };
}

describe('AgentStatusConsumer', () => {
  it('applies a batch of changes with one command for the offline marks and one for the returns', async () => {
    const { consumer, calls } = harness([]);
    await consumer.onStatusChanges([change('a', 'offline'), change('b', 'offline', '2026-11-29T02:59:00.000Z'), change('c', 'online'), change('d', 'offline')]);
    expect(calls.setOffline).toEqual([
      [
        ['a', Date.parse(T)],
        ['b', Date.parse('2026-11-29T02:59:00.000Z')],
        ['d', Date.parse(T)],
      ],
    ]);
    expect(calls.clearOffline).toEqual([['c']]);
    expect(calls.expired.sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('leaves each agent as its last change in the batch says', async () => {
    const { consumer, calls } = harness([]);
    await consumer.onStatusChanges([change('a', 'offline'), change('b', 'online'), change('a', 'online'), change('b', 'offline')]);
    expect(calls.setOffline).toEqual([[['b', Date.parse(T)]]]);
    expect(calls.clearOffline).toEqual([['a']]);
  });

  it('takes an unreadable time as now', async () => {
    const { consumer, calls } = harness([]);
    const before = Date.now();
    await consumer.onStatusChanges([change('a', 'offline', 'not a time')]);
    expect(calls.setOffline[0]![0]![1]).toBeGreaterThanOrEqual(before);
  });

  it('evaluates the absence rules once per agent of the batch, none without them', async () => {
    const cpu = rule('cpu', { type: 'threshold', measurement: 'cpu', field: 'usage', aggregation: 'last', window: '1m', op: '>', value: 90 });
    const silent = rule('silent', { type: 'absence', for: '1h' });
    const withAbsence = harness([cpu, silent]);
    await withAbsence.consumer.onStatusChanges([change('a', 'offline'), change('a', 'online'), change('b', 'offline')]);
    expect(withAbsence.calls.checked.sort()).toEqual(['silent:a', 'silent:b']);
    const without = harness([cpu]);
    await without.consumer.onStatusChanges([change('a', 'offline')]);
    expect(without.calls.checked).toEqual([]);
  });
});
