import { z } from 'zod';

/** Agents are identified by the id they send; everything else gets a server-made UUID. */
export const AgentIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must match [A-Za-z0-9._:-]{1,128}');
export const UuidSchema = z.uuid();

/** Times arrive as RFC 3339 strings or epoch milliseconds; inside the system they are epoch ms. */
export const TimeInputSchema = z.union([
  z.number().int().nonnegative(),
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
]);
/** Query strings carry times as text: RFC 3339 or digits (epoch ms). */
export const TimeQuerySchema = z
  .string()
  .refine((s) => /^\d+$/.test(s) || !Number.isNaN(Date.parse(s)), 'must be RFC 3339 or epoch milliseconds')
  .transform((s) => (/^\d+$/.test(s) ? Number(s) : Date.parse(s)));
export const IsoTimeSchema = z.string(); // RFC 3339 in answers

export const LimitSchema = z.coerce.number().int().min(1).max(1000).default(100);
export const PageQuerySchema = z.object({
  limit: LimitSchema,
  cursor: z.string().max(512).optional(),
});
export type PageQuery = z.infer<typeof PageQuerySchema>;

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable() });

export const TagsSchema = z.record(
  z.string().min(1).max(128),
  z.string().max(256),
);

/** Durations such as 30s, 5m, 1h, 7d. */
export const DurationSchema = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration like 30s, 5m, 1h');
export function durationToMs(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`bad duration ${d}`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return n * unit;
}

export const RoleSchema = z.enum(['viewer', 'operator', 'admin']);
export type Role = z.infer<typeof RoleSchema>;
export const PermissionSchema = z.enum(['ingest:write', 'read', 'write', 'admin']);
export type Permission = z.infer<typeof PermissionSchema>;

/**
 * Who is acting. Carried in every command so the owning service can record it in the audit log
 * and check ownership without trusting anything but the gateway's authentication.
 */
export const PrincipalSchema = z.object({
  kind: z.enum(['user', 'api_key']),
  id: z.string(),
  /** user id of the human behind the request (the key's creator for API keys) */
  user_id: z.string(),
  username: z.string(),
  role: RoleSchema,
  /** for API keys: the permissions of the key; for users: derived from the role */
  permissions: z.array(PermissionSchema),
  session_id: z.string().optional(),
  ip: z.string().optional(),
  /**
   * for API keys bound to one agent: the only agent the key may push telemetry for, heartbeat and
   * read the config of (on the ingest port). Absent: the key is not bound (fleet-wide).
   */
  agent_id: z.string().optional(),
});
export type Principal = z.infer<typeof PrincipalSchema>;

export const OkSchema = z.object({ ok: z.literal(true) });
