import { z } from 'zod';
import { TimeQuerySchema } from '@agentmon/contracts';

/** Server-made ids (users, keys, rules, alerts, channels): validated for shape here, looked up by their owner. */
export const ResourceIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be an id: 1-128 letters, digits, . _ : -');

/** A from/to pair in a query string: RFC 3339 or epoch ms each, `from` not after `to`. */
export const TimeRangeQueryShape = {
  from: TimeQuerySchema.optional(),
  to: TimeQuerySchema.optional(),
};
export function fromNotAfterTo(q: { from?: number | undefined; to?: number | undefined }, ctx: z.RefinementCtx): void {
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) {
    ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be after to' });
  }
}
