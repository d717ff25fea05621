import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import type { DataSource, Repository } from 'typeorm';
import type { z } from 'zod';
import { AppError, type PageQuery, type Principal, type RevocationReason, type Role, type User, type CreateUserSchema, type UpdateUserSchema } from '@agentmon/contracts';
import { decodeCursor, encodeCursor } from '@agentmon/persistence';
import { assertPasswordPolicy, hashPassword } from '../crypto/password.js';
import { AuditRecorder } from '../audit/audit-recorder.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { ADVISORY_LOCKS } from '../advisory-locks.js';
import { auditActor, isUuid, requireAdmin } from '../principal.js';
import { isUniqueViolation } from '../db-errors.js';
import { RevocationPublisher } from '../revocations/revocation-publisher.service.js';
import { UserEntity } from './user.entity.js';
import { toUser } from './user.mapper.js';

type CreateUser = z.output<typeof CreateUserSchema>;
type UpdateUser = z.output<typeof UpdateUserSchema>;

/** User accounts: profile, and the admin-only create, list and update. */
@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(AuditRecorder) private readonly audit: AuditRecorder,
    @Inject(RevocationPublisher) private readonly revocations: RevocationPublisher,
  ) {}

  async findById(id: string): Promise<UserEntity | null> {
    return isUuid(id) ? this.users.findOneBy({ id }) : null;
  }

  /** Usernames are unique regardless of case, and found regardless of case. */
  async findByUsername(username: string): Promise<UserEntity | null> {
    return this.users.createQueryBuilder('u').where('lower(u.username) = lower(:username)', { username }).getOne();
  }

  async profile(principal: Principal): Promise<User> {
    const user = await this.findById(principal.user_id);
    if (!user) throw AppError.notFound('user', principal.user_id);
    return toUser(user);
  }

  async create(principal: Principal, input: CreateUser): Promise<User> {
    await this.requireAdminAudited(principal, 'user.create', null, 'creating users');
    assertPasswordPolicy(input.password, 'user.password');
    const now = new Date();
    const row = this.users.create({
      id: randomUUID(),
      username: input.username,
      email: input.email,
      role: input.role,
      active: true,
      passwordHash: await hashPassword(input.password),
      passwordChangedAt: now,
      createdAt: now,
      updatedAt: now,
    });
    try {
      await this.users.insert(row);
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new AppError('conflict', `username ${input.username} is already taken`, [{ path: 'user.username', reason: 'already taken' }]);
      }
      throw err;
    }
    const user = toUser(row);
    await this.audit.record({
      actor: auditActor(principal),
      action: 'user.create',
      resource_type: 'user',
      resource_id: user.id,
      outcome: 'success',
      ip: principal.ip ?? null,
      after: { username: user.username, email: user.email, role: user.role, active: user.active },
    });
    return user;
  }

  /** Keyset-paged in username order. */
  async list(principal: Principal, page: PageQuery): Promise<{ items: User[]; next_cursor: string | null }> {
    requireAdmin(principal, 'listing users');
    const after = decodeCursor<{ u: string }>(page.cursor);
    const qb = this.users.createQueryBuilder('u');
    if (after) {
      if (typeof after.u !== 'string') throw new AppError('bad_request', 'cursor is not valid', [{ path: 'page.cursor', reason: 'not a cursor this endpoint returned' }]);
      qb.where('lower(u.username) > :after', { after: after.u });
    }
    const rows = await qb.orderBy('lower(u.username)', 'ASC').limit(page.limit + 1).getMany();
    const items = rows.slice(0, page.limit);
    const last = items[items.length - 1];
    return { items: items.map(toUser), next_cursor: rows.length > page.limit && last ? encodeCursor({ u: last.username.toLowerCase() }) : null };
  }

  /**
   * Changes role, active flag or password. Deactivation, a new password or a new role end the user's sessions;
   * the last active admin cannot be demoted or deactivated (409), so the system keeps an administrator.
   */
  async update(principal: Principal, id: string, patch: UpdateUser): Promise<User> {
    await this.requireAdminAudited(principal, 'user.update', id, 'changing users');
    if (patch.password !== undefined) assertPasswordPolicy(patch.password, 'patch.password');
    const passwordHash = patch.password !== undefined ? await hashPassword(patch.password) : undefined;
    if (!isUuid(id)) throw AppError.notFound('user', id);

    const { before, after, revoked } = await this.ds.transaction(async (m) => {
      const current = await m.getRepository(UserEntity).createQueryBuilder('u').setLock('pessimistic_write').where('u.id = :id', { id }).getOne();
      if (!current) throw AppError.notFound('user', id);
      const role: Role = patch.role ?? current.role;
      const active = patch.active ?? current.active;
      const losesAdmin = current.role === 'admin' && current.active && (role !== 'admin' || !active);
      if (losesAdmin) {
        await m.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.lastAdmin]);
        const [{ n }] = (await m.query(`SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND active AND id <> $1`, [id])) as [{ n: number }];
        if (n === 0) throw new AppError('conflict', 'the last active admin cannot be demoted or deactivated; make another admin first');
      }
      const now = new Date();
      const changes: Partial<UserEntity> = { role, active, updatedAt: now };
      if (passwordHash !== undefined) Object.assign(changes, { passwordHash, passwordChangedAt: now });
      await m.getRepository(UserEntity).update({ id }, changes);
      // Access tokens carry the role and the gateway checks sessions, so ending the sessions makes a
      // deactivation, a new password or a new role take effect; the announcement below makes every
      // replica forget its cached session checks and API key rights of this user at once.
      let revoked: Extract<RevocationReason, 'user_deactivated' | 'password_changed' | 'role_changed'> | null = null;
      if (current.active && !active) revoked = 'user_deactivated';
      else if (passwordHash !== undefined) revoked = 'password_changed';
      else if (role !== current.role) revoked = 'role_changed';
      if (revoked) await this.sessions.revokeAllForUser(id, revoked, m);
      return { before: current, after: { ...current, ...changes } as UserEntity, revoked };
    });
    if (revoked) await this.revocations.announce({ scope: 'user', user_id: id, reason: revoked });

    await this.audit.record({
      actor: auditActor(principal),
      action: 'user.update',
      resource_type: 'user',
      resource_id: id,
      outcome: 'success',
      ip: principal.ip ?? null,
      before: { role: before.role, active: before.active },
      after: { role: after.role, active: after.active, ...(passwordHash !== undefined ? { password_changed: true } : {}) },
    });
    return toUser(after);
  }

  /** Admin check that leaves a trace: a refused attempt at an admin command is itself audited. */
  private async requireAdminAudited(principal: Principal, action: string, resourceId: string | null, what: string): Promise<void> {
    try {
      requireAdmin(principal, what);
    } catch (err) {
      await this.audit.record({
        actor: auditActor(principal),
        action,
        resource_type: 'user',
        resource_id: resourceId,
        outcome: 'failure',
        ip: principal.ip ?? null,
        after: { reason: 'forbidden' },
      });
      throw err;
    }
  }
}
