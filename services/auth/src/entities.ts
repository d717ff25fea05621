import { UserEntity } from './users/user.entity.js';
import { UserSessionEntity } from './sessions/user-session.entity.js';
import { ApiKeyEntity } from './api-keys/api-key.entity.js';
import { AuditLogEntity } from './audit/audit-log.entity.js';
import { SigningKeyEntity } from './signing-keys/signing-key.entity.js';

export const ENTITIES = [UserEntity, UserSessionEntity, ApiKeyEntity, AuditLogEntity, SigningKeyEntity];
