import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Permission } from '@agentmon/contracts';

@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  name!: string;

  /** the first characters of the key, kept in clear so people can tell their keys apart */
  @Column('text')
  prefix!: string;

  /** SHA-256 (hex) of the whole key; the key itself is shown once and never stored */
  @Column('text', { name: 'key_hash' })
  keyHash!: string;

  @Column('text', { array: true })
  permissions!: Permission[];

  /** the user who created the key; the key never acts with more than this user holds */
  @Column('uuid', { name: 'owner_id' })
  ownerId!: string;

  /** for keys bound to one agent (only `ingest:write` keys): the agent they may push for and read the config of */
  @Column('text', { name: 'agent_id', nullable: true })
  agentId!: string | null;

  @Column('timestamp with time zone', { name: 'expires_at', precision: 3, nullable: true })
  expiresAt!: Date | null;

  @Column('timestamp with time zone', { name: 'last_used_at', precision: 3, nullable: true })
  lastUsedAt!: Date | null;

  @Column('text', { name: 'last_used_ip', nullable: true })
  lastUsedIp!: string | null;

  @Column('timestamp with time zone', { name: 'revoked_at', precision: 3, nullable: true })
  revokedAt!: Date | null;

  @Column('timestamp with time zone', { name: 'created_at', precision: 3 })
  createdAt!: Date;
}
