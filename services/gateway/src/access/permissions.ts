import type { AccessTokenClaims, Permission, Principal, Role } from '@agentmon/contracts';

/**
 * What each role holds. A viewer reads; an operator also manages agents, configs, alert rules and
 * channels, and may push telemetry; an admin may do everything.
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  viewer: ['read'],
  operator: ['read', 'write', 'ingest:write'],
  admin: ['read', 'write', 'admin', 'ingest:write'],
};

/**
 * What a route demands. `public` needs nothing; `authenticated` a user, or an API key holding a
 * permission of the gateway (read, write or admin); `user` a user's login session (not an API key);
 * the others a permission. Permissions nest: `admin` includes `write`, `write` includes `read` (a key
 * with `write` has operator rights, which include a viewer's). `ingest:write` includes nothing else:
 * an ingest-only key is for the ingest port and is refused (403) by every gateway route but the
 * public ones.
 */
export const ACCESS_LEVELS = ['public', 'authenticated', 'user', 'read', 'write', 'admin'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

const IMPLIES: Readonly<Record<Permission, readonly Permission[]>> = {
  admin: ['admin', 'write', 'read'],
  write: ['write', 'read'],
  read: ['read'],
  'ingest:write': ['ingest:write'],
};

export function effectivePermissions(permissions: readonly Permission[]): Set<Permission> {
  const out = new Set<Permission>();
  for (const p of permissions) for (const q of IMPLIES[p]) out.add(q);
  return out;
}

/** Whether a principal (or nobody, for `public`) may use a route of this level. */
export function allows(principal: Principal | undefined, level: AccessLevel): boolean {
  if (level === 'public') return true;
  if (!principal) return false;
  if (level === 'user') return principal.kind === 'user';
  if (level === 'authenticated') return principal.kind === 'user' || effectivePermissions(principal.permissions).has('read');
  return effectivePermissions(principal.permissions).has(level);
}

/** The principal of a user holding a verified access token. */
export function userPrincipal(claims: Pick<AccessTokenClaims, 'sub' | 'username' | 'role' | 'sid'>, ip?: string): Principal {
  return {
    kind: 'user',
    id: claims.sub,
    user_id: claims.sub,
    username: claims.username,
    role: claims.role,
    permissions: [...ROLE_PERMISSIONS[claims.role]],
    session_id: claims.sid,
    ...(ip ? { ip } : {}),
  };
}

/**
 * The principal of a verified API key, as auth resolved it: auth caps a key's permissions by what its
 * creator holds now (and reports as `role` what the key amounts to), so they are taken as they are.
 * Only the client address is the gateway's.
 */
export function apiKeyPrincipal(verified: Principal, ip?: string): Principal {
  const { ip: _ignored, ...rest } = verified;
  return { ...rest, kind: 'api_key', ...(ip ? { ip } : {}) };
}
