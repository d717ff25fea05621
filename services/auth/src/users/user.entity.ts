import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Role } from '@agentmon/contracts';

@Entity('users')
export class UserEntity {
  @PrimaryColumn('uuid')
  id!: string;

  /** unique regardless of case (index on lower(username)) */
  @Column('text')
  username!: string;

  @Column('text', { nullable: true })
  email!: string | null;

  @Column('text')
  role!: Role;

  @Column('boolean')
  active!: boolean;

  /** scrypt$N$r$p$salt$hash, see crypto/password.ts */
  @Column('text', { name: 'password_hash' })
  passwordHash!: string;

  @Column('timestamp with time zone', { name: 'password_changed_at', precision: 3 })
  passwordChangedAt!: Date;

  @Column('timestamp with time zone', { name: 'created_at', precision: 3 })
  createdAt!: Date;

  @Column('timestamp with time zone', { name: 'updated_at', precision: 3 })
  updatedAt!: Date;
}
