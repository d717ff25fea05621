import { AppError, type AuditEvent, type Principal } from '@agentmon/contracts';

/**
 * The acting identity comes from the gateway, which authenticated the caller. Access is still checked
 * here (defence in depth): a mistake in a gateway route must not open an admin-only command.
 */
export function requireAdmin(principal: Principal, what: string): void {
  if (principal.role !== 'admin') throw new AppError('forbidden', `${what} needs the admin role`);
}

/** Who the audit log names as the actor of a command. */
export function auditActor(principal: Principal): AuditEvent['actor'] {
  return principal.kind === 'api_key'
    ? { kind: 'api_key', id: principal.id, username: principal.username }
    : { kind: 'user', id: principal.user_id, username: principal.username };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids of this service are UUIDs; anything else cannot name a row (and must not reach a uuid column). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
