import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import type { DataSource, Repository } from 'typeorm';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { AppError, type ApiKey, type CreateApiKeySchema, type CreatedApiKeySchema, type PageQuery, type Permission, type Principal, type Role } from '@agentmon/contracts';
import { decodeCursor, encodeCursor } from '@agentmon/persistence';
import { AuditRecorder } from '../audit/audit-recorder.service.js';
import { UsersService } from '../users/users.service.js';
import { AuthMetrics } from '../metrics/auth-metrics.js';
import { LOGGER } from '../logger.token.js';
import { RevocationPublisher } from '../revocations/revocation-publisher.service.js';
import { API_KEY_PREFIX, API_KEY_VISIBLE_LENGTH, newOpaqueToken, sha256Hex } from '../crypto/opaque-token.js';
import { auditActor, isUuid } from '../principal.js';
import { ApiKeyEntity } from './api-key.entity.js';
import { exceeding, impliedPermissions, keyPrincipalRights, rolePermissions, sortPermissions } from './permissions.js';

type CreateApiKey = z.output<typeof CreateApiKeySchema>;
type CreatedApiKey = z.input<typeof CreatedApiKeySchema>;

/** last_used_at is written at most this often per key, so verification does not turn every request into a write */
const LAST_USED_RESOLUTION_S = 60;

/** API keys: minted within the creator's rights, shown once, stored as SHA-256, verified for the gateway and ingest. */
@Injectable()
export class ApiKeysService {
  constructor(
    @InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>,
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(UsersService) private readonly users: UsersService,
    @Inject(AuditRecorder) private readonly audit: AuditRecorder,
    @Inject(AuthMetrics) private readonly metrics: AuthMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(RevocationPublisher) private readonly revocations: RevocationPublisher,
  ) {}

  async create(principal: Principal, input: CreateApiKey): Promise<CreatedApiKey> {
    if (input.agent_id !== undefined && !(input.permissions.length === 1 && input.permissions[0] === 'ingest:write')) {
      // a binding restricts pushing and config reads on the ingest port; on a key that may also read
      // or change things through the gateway it would promise a restriction nobody enforces
      throw new AppError('bad_request', 'only a key whose permissions are exactly ["ingest:write"] can be bound to an agent', [
        { path: 'key.agent_id', reason: 'needs permissions ["ingest:write"]' },
      ]);
    }
    const creator = await this.users.findById(principal.user_id);
    if (!creator || !creator.active) throw new AppError('forbidden', 'the creating user is unknown or deactivated');
    const held = this.heldPermissions(principal, creator.role);
    const tooMuch = exceeding(input.permissions, held);
    if (tooMuch.length > 0) {
      await this.audit.record({
        actor: auditActor(principal),
        action: 'api_key.create',
        resource_type: 'api_key',
        outcome: 'failure',
        ip: principal.ip ?? null,
        after: { name: input.name, permissions: input.permissions, reason: 'exceeds_creator_rights' },
      });
      throw new AppError('forbidden', `a key cannot hold more than its creator: ${tooMuch.join(', ')} not held`, [
        { path: 'key.permissions', reason: `${tooMuch.join(', ')} exceeds what you hold (${held.join(', ')})` },
      ]);
    }
    if (input.expires_at !== undefined && input.expires_at <= Date.now()) {
      throw new AppError('bad_request', 'key.expires_at must be in the future', [{ path: 'key.expires_at', reason: 'must be in the future' }]);
    }

    const key = newOpaqueToken(API_KEY_PREFIX);
    const row = this.keys.create({
      id: randomUUID(),
      name: input.name,
      prefix: key.slice(0, API_KEY_VISIBLE_LENGTH),
      keyHash: sha256Hex(key),
      permissions: sortPermissions(input.permissions),
      ownerId: creator.id,
      agentId: input.agent_id ?? null,
      expiresAt: input.expires_at !== undefined ? new Date(input.expires_at) : null,
      lastUsedAt: null,
      lastUsedIp: null,
      revokedAt: null,
      createdAt: new Date(),
    });
    await this.keys.insert(row);
    const created = toApiKey(row);
    await this.audit.record({
      actor: auditActor(principal),
      action: 'api_key.create',
      resource_type: 'api_key',
      resource_id: row.id,
      outcome: 'success',
      ip: principal.ip ?? null,
      after: {
        name: created.name,
        prefix: created.prefix,
        permissions: created.permissions,
        owner_id: created.owner_id,
        agent_id: created.agent_id,
        expires_at: created.expires_at,
      },
    });
    return { ...created, key };
  }

  /** Own keys, newest first; admins see everyone's. Revoked keys stay listed with revoked_at. */
  async list(principal: Principal, page: PageQuery): Promise<{ items: ApiKey[]; next_cursor: string | null }> {
    const after = decodeCursor<{ c: number; id: string }>(page.cursor);
    const qb = this.keys.createQueryBuilder('k');
    if (principal.role !== 'admin') qb.where('k.owner_id = :owner', { owner: principal.user_id });
    if (after) {
      if (typeof after.c !== 'number' || typeof after.id !== 'string' || !isUuid(after.id)) {
        throw new AppError('bad_request', 'cursor is not valid', [{ path: 'page.cursor', reason: 'not a cursor this endpoint returned' }]);
      }
      qb.andWhere('(k.created_at, k.id) < (:c, :id)', { c: new Date(after.c), id: after.id });
    }
    const rows = await qb.orderBy('k.created_at', 'DESC').addOrderBy('k.id', 'DESC').limit(page.limit + 1).getMany();
    const items = rows.slice(0, page.limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toApiKey),
      next_cursor: rows.length > page.limit && last ? encodeCursor({ c: last.createdAt.getTime(), id: last.id }) : null,
    };
  }

  /** Revokes a key: the owner's own, or any for admins. Other people's keys are reported as not found. */
  async revoke(principal: Principal, id: string): Promise<{ ok: true }> {
    const row = isUuid(id) ? await this.keys.findOneBy({ id }) : null;
    if (!row || (principal.role !== 'admin' && row.ownerId !== principal.user_id)) throw AppError.notFound('API key', id);
    if (row.revokedAt === null) {
      await this.keys.createQueryBuilder().update().set({ revokedAt: () => 'now()' }).where('id = :id AND revoked_at IS NULL', { id }).execute();
      await this.audit.record({
        actor: auditActor(principal),
        action: 'api_key.delete',
        resource_type: 'api_key',
        resource_id: id,
        outcome: 'success',
        ip: principal.ip ?? null,
        before: { name: row.name, prefix: row.prefix, permissions: row.permissions, owner_id: row.ownerId, agent_id: row.agentId },
      });
      await this.revocations.announce({ scope: 'api_key', api_key_id: id, user_id: row.ownerId, reason: 'api_key_revoked' });
    }
    return { ok: true };
  }

  /** Resolves a presented key to the principal it acts as; 401 when unknown, expired, revoked or its creator is deactivated. */
  async verify(key: string, ip: string | undefined): Promise<Principal> {
    if (!key.startsWith(API_KEY_PREFIX)) return this.refuse('unknown', 'API key is not valid');
    const [row] = (await this.ds.query(
      `SELECT k.id, k.owner_id, k.permissions, k.agent_id, k.expires_at, k.revoked_at, k.last_used_at, u.username, u.role, u.active
         FROM api_keys k JOIN users u ON u.id = k.owner_id
        WHERE k.key_hash = $1`,
      [sha256Hex(key)],
    )) as Array<{
      id: string;
      owner_id: string;
      permissions: Permission[];
      agent_id: string | null;
      expires_at: Date | null;
      revoked_at: Date | null;
      last_used_at: Date | null;
      username: string;
      role: Role;
      active: boolean;
    }>;
    if (!row) return this.refuse('unknown', 'API key is not valid');
    if (row.revoked_at !== null) return this.refuse('revoked', 'API key has been revoked');
    if (row.expires_at !== null && row.expires_at.getTime() <= Date.now()) return this.refuse('expired', 'API key has expired');
    if (!row.active) return this.refuse('owner_inactive', 'API key is not valid: its creator is deactivated');

    if (row.last_used_at === null || Date.now() - row.last_used_at.getTime() >= LAST_USED_RESOLUTION_S * 1000) {
      await this.ds
        .query(
          `UPDATE api_keys SET last_used_at = now(), last_used_ip = $2
            WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $3::double precision))`,
          [row.id, ip ?? null, LAST_USED_RESOLUTION_S],
        )
        .catch((err: unknown) => this.logger.warn({ err, api_key_id: row.id }, 'could not record API key use'));
    }
    this.metrics.apiKeyVerifications.inc({ outcome: 'success' });
    const rights = keyPrincipalRights(row.role, row.permissions);
    return {
      kind: 'api_key',
      id: row.id,
      user_id: row.owner_id,
      username: row.username,
      role: rights.role,
      permissions: rights.permissions,
      ...(row.agent_id !== null ? { agent_id: row.agent_id } : {}),
      ...(ip !== undefined ? { ip } : {}),
    };
  }

  /**
   * What the acting principal may delegate: a user holds their role's permissions (read from the
   * database, not from the token); a key holds what its own permissions imply (a `write` key also
   * reads, an `admin` key holds all) within its creator's current role.
   */
  private heldPermissions(principal: Principal, creatorRole: Role): Permission[] {
    const ofRole = rolePermissions(creatorRole);
    return principal.kind === 'user' ? ofRole : impliedPermissions(principal.permissions).filter((p) => ofRole.includes(p));
  }

  private refuse(outcome: 'unknown' | 'revoked' | 'expired' | 'owner_inactive', message: string): never {
    this.metrics.apiKeyVerifications.inc({ outcome });
    throw new AppError('unauthorized', message);
  }
}

export function toApiKey(row: ApiKeyEntity): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    permissions: row.permissions,
    owner_id: row.ownerId,
    agent_id: row.agentId,
    expires_at: row.expiresAt?.toISOString() ?? null,
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    revoked_at: row.revokedAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
  };
}
