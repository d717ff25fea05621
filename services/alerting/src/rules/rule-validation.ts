import { AppError, durationToMs, type Condition, type ErrorDetail, type RuleInput } from '@agentmon/contracts';

const SECOND = 1_000;
const DAY = 86_400_000;
/** Sample windows are kept in Redis; a day of points per rule and agent is the most we hold. */
export const MAX_WINDOW_MS = DAY;
export const MAX_FOR_MS = 7 * DAY;
export const MAX_CONDITION_DEPTH = 5;

/**
 * Checks what the schema cannot: durations in range, nesting depth. The schema (RuleInputSchema)
 * has already checked shapes, types and that channel ids are UUIDs. Paths name the field as the
 * caller sent it (under `rule.`).
 */
export function validateRuleSemantics(rule: RuleInput, prefix = 'rule'): void {
  const details: ErrorDetail[] = [];
  const forMs = durationToMs(rule.for);
  if (forMs > MAX_FOR_MS) details.push({ path: `${prefix}.for`, reason: 'must be at most 7d' });
  checkCondition(rule.condition, `${prefix}.condition`, 1, details);
  (rule.scope.group_ids ?? []).forEach((g, i) => {
    if (g.trim() === '') details.push({ path: `${prefix}.scope.group_ids[${i}]`, reason: 'must not be empty' });
  });
  if (details.length > 0) {
    throw new AppError('bad_request', `Validation failed: ${details[0]!.path} ${details[0]!.reason}`, details);
  }
}

function checkCondition(c: Condition, path: string, depth: number, details: ErrorDetail[]): void {
  if (depth > MAX_CONDITION_DEPTH) {
    details.push({ path, reason: `conditions nest at most ${MAX_CONDITION_DEPTH} levels deep` });
    return;
  }
  switch (c.type) {
    case 'threshold': {
      const ms = durationToMs(c.window);
      if (ms < SECOND) details.push({ path: `${path}.window`, reason: 'must be at least 1s' });
      else if (ms > MAX_WINDOW_MS) details.push({ path: `${path}.window`, reason: 'must be at most 24h' });
      return;
    }
    case 'absence': {
      const ms = durationToMs(c.for);
      if (ms < SECOND) details.push({ path: `${path}.for`, reason: 'must be at least 1s' });
      else if (ms > MAX_FOR_MS) details.push({ path: `${path}.for`, reason: 'must be at most 7d' });
      return;
    }
    case 'composite':
      c.conditions.forEach((child, i) => checkCondition(child, `${path}.conditions[${i}]`, depth + 1, details));
      return;
  }
}
