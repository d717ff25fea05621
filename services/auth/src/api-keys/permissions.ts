import type { Permission, Role } from '@agentmon/contracts';

const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const ALL: readonly Permission[] = ['ingest:write', 'read', 'write', 'admin'];

/** What a user of each role holds, and so the most a key they create may carry. */
export function rolePermissions(role: Role): Permission[] {
  switch (role) {
    case 'viewer':
      return ['read'];
    case 'operator':
      return ['read', 'write', 'ingest:write'];
    case 'admin':
      return [...ALL];
  }
}

/** The highest role a set of key permissions amounts to (ingest:write alone reads nothing more than a viewer). */
export function roleOfPermissions(permissions: readonly Permission[]): Role {
  if (permissions.includes('admin')) return 'admin';
  if (permissions.includes('write')) return 'operator';
  return 'viewer';
}

export function minRole(a: Role, b: Role): Role {
  return ROLE_RANK[a] <= ROLE_RANK[b] ? a : b;
}

/**
 * What a set of key permissions amounts to: `admin` holds everything (the ingest port takes admin
 * keys too), `write` includes `read`; `ingest:write` and `read` only themselves.
 */
export function impliedPermissions(permissions: readonly Permission[]): Permission[] {
  const out = new Set<Permission>();
  for (const p of permissions) {
    if (p === 'admin') ALL.forEach((q) => out.add(q));
    else if (p === 'write') out.add('write').add('read');
    else out.add(p);
  }
  return sortPermissions([...out]);
}

/** The permissions in `requested` that `held` does not include. */
export function exceeding(requested: readonly Permission[], held: readonly Permission[]): Permission[] {
  return requested.filter((p) => !held.includes(p));
}

/** Keeps the canonical order, whatever order the caller sent. */
export function sortPermissions(permissions: readonly Permission[]): Permission[] {
  return ALL.filter((p) => permissions.includes(p));
}

/**
 * What a key acts as: the creator's current role capped by the key's permissions, and the key's
 * permissions minus anything the creator no longer holds (a demoted creator demotes their keys).
 */
export function keyPrincipalRights(creatorRole: Role, keyPermissions: readonly Permission[]): { role: Role; permissions: Permission[] } {
  const held = rolePermissions(creatorRole);
  return {
    role: minRole(creatorRole, roleOfPermissions(keyPermissions)),
    permissions: sortPermissions(keyPermissions.filter((p) => held.includes(p))),
  };
}
