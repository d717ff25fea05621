import type { User } from '@agentmon/contracts';
import type { UserEntity } from './user.entity.js';

/** A user as the contract shows it (never the password hash). */
export function toUser(row: UserEntity): User {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    role: row.role,
    active: row.active,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
