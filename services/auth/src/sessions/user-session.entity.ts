import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One refresh token. A login starts a family (its id is the session id, `sid` in access tokens);
 * every refresh marks the presented row rotated and adds its successor to the same family.
 */
@Entity('user_sessions')
export class UserSessionEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'family_id' })
  familyId!: string;

  @Column('uuid', { name: 'user_id' })
  userId!: string;

  /** SHA-256 (hex) of the refresh token; the token itself is never stored */
  @Column('text', { name: 'token_hash' })
  tokenHash!: string;

  @Column('timestamp with time zone', { name: 'expires_at', precision: 3 })
  expiresAt!: Date;

  @Column('timestamp with time zone', { name: 'rotated_at', precision: 3, nullable: true })
  rotatedAt!: Date | null;

  @Column('uuid', { name: 'replaced_by', nullable: true })
  replacedBy!: string | null;

  @Column('timestamp with time zone', { name: 'revoked_at', precision: 3, nullable: true })
  revokedAt!: Date | null;

  @Column('text', { name: 'revoked_reason', nullable: true })
  revokedReason!: string | null;

  @Column('text', { nullable: true })
  ip!: string | null;

  @Column('text', { name: 'user_agent', nullable: true })
  userAgent!: string | null;

  @Column('timestamp with time zone', { name: 'created_at', precision: 3 })
  createdAt!: Date;
}
