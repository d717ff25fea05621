import { ApiError } from './api';

/**
 * Puts the API's validation errors on the form fields they name. The gateway names body fields as
 * sent (`password`), the auth service prefixes them with its command (`user.password`,
 * `patch.password`, `key.expires_at`); array items come as `permissions.0`.
 */
export function fieldErrors(err: unknown, fields: readonly string[]): { byField: Record<string, string>; rest: string | null } {
  const byField: Record<string, string> = {};
  if (!(err instanceof ApiError)) return { byField, rest: err instanceof Error ? err.message : 'Something went wrong' };
  for (const d of err.details) {
    if (!d.path) continue;
    const segments = d.path.split('.');
    const field = segments.find((s) => fields.includes(s));
    if (field && !byField[field]) byField[field] = d.reason ?? err.message;
  }
  return { byField, rest: Object.keys(byField).length > 0 ? null : err.message };
}
