import { durationToMs, TimeInputSchema, AgentIdSchema } from './common.js';
import { AppError, validationError } from './errors.js';
import { z } from 'zod';

describe('durations', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
  ])('%s is %d ms', (d, ms) => expect(durationToMs(d)).toBe(ms));
  it('refuses text that is not a duration', () => expect(() => durationToMs('5 minutes')).toThrow());
});

describe('time input', () => {
  it('takes RFC 3339 and epoch ms alike', () => {
    expect(TimeInputSchema.parse('2026-11-27T12:00:00.000Z')).toBe(Date.UTC(2026, 10, 27, 12));
    expect(TimeInputSchema.parse(1_764_244_800_000)).toBe(1_764_244_800_000);
  });
  it('refuses a date without a zone', () => expect(TimeInputSchema.safeParse('2026-11-27 12:00').success).toBe(false));
});

describe('agent ids', () => {
  it('accepts the documented alphabet and refuses the rest', () => {
    expect(AgentIdSchema.safeParse('agent-7.eu:1_a').success).toBe(true);
    expect(AgentIdSchema.safeParse('agent 7').success).toBe(false);
    expect(AgentIdSchema.safeParse('a'.repeat(129)).success).toBe(false);
  });
});

describe('validation errors', () => {
  it('name each bad field with its path', () => {
    const schema = z.object({ points: z.array(z.object({ fields: z.record(z.string(), z.number()) })) });
    const res = schema.safeParse({ points: [{ fields: { a: 1 } }, { fields: { cpu_usage: 'x' } }] });
    expect(res.success).toBe(false);
    const err = validationError(res.error!);
    expect(err).toBeInstanceOf(AppError);
    expect(err.statusCode).toBe(400);
    expect(err.details).toEqual([{ path: 'points[1].fields.cpu_usage', reason: expect.any(String) }]);
  });
});
