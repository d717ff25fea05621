import { AppError, RuleInputSchema } from '@agentmon/contracts';
import { validateRuleSemantics } from './rule-validation.js';

const base = {
  name: 'CPU hot',
  condition: { type: 'threshold', measurement: 'agent_metrics', field: 'cpu_usage', op: '>', value: 90 },
};

function problems(input: unknown): { path: string; reason: string }[] {
  try {
    validateRuleSemantics(RuleInputSchema.parse(input));
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).statusCode).toBe(400);
    return (err as AppError).details ?? [];
  }
}

describe('validateRuleSemantics', () => {
  it('accepts a plain rule (defaults applied by the schema)', () => {
    expect(problems(base)).toEqual([]);
  });

  it('names a window that is too short or too long', () => {
    expect(problems({ ...base, condition: { ...base.condition, window: '0s' } })).toEqual([
      { path: 'rule.condition.window', reason: 'must be at least 1s' },
    ]);
    expect(problems({ ...base, condition: { ...base.condition, window: '2d' } })[0]!.path).toBe('rule.condition.window');
  });

  it('names the nested field of a composite', () => {
    const input = {
      ...base,
      condition: { type: 'composite', op: 'and', conditions: [base.condition, { type: 'absence', for: '500ms' }] },
    };
    expect(problems(input)).toEqual([{ path: 'rule.condition.conditions[1].for', reason: 'must be at least 1s' }]);
  });

  it('limits for and nesting depth', () => {
    expect(problems({ ...base, for: '8d' })).toEqual([{ path: 'rule.for', reason: 'must be at most 7d' }]);
    let deep: unknown = base.condition;
    for (let i = 0; i < 6; i++) deep = { type: 'composite', op: 'or', conditions: [deep] };
    expect(problems({ ...base, condition: deep })[0]!.reason).toMatch(/nest at most/);
  });

  it('the schema itself refuses channel ids that are not UUIDs', () => {
    const parsed = RuleInputSchema.safeParse({ ...base, channels: ['not-a-uuid'] });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.path).toEqual(['channels', 0]);
  });
});
