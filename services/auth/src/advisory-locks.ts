/**
 * PostgreSQL advisory lock keys (pg_advisory_xact_lock) that serialise one-time work across
 * replicas of this service. 0x61757468 is "auth"; the low bits name the purpose.
 */
export const ADVISORY_LOCKS = {
  adminBootstrap: 0x61757468_0001,
  signingKeys: 0x61757468_0002,
  lastAdmin: 0x61757468_0003,
} as const;
