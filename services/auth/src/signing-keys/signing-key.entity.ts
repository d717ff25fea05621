import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A JWT signing key pair. Exactly one is `active` (signs new tokens); `retired` keys stay for
 * verification until tokens they signed have expired (the JWKS lists the newest retired one).
 */
@Entity('signing_keys')
export class SigningKeyEntity {
  @PrimaryColumn('text')
  kid!: string;

  @Column('text')
  alg!: string;

  @Column('jsonb', { name: 'public_jwk' })
  publicJwk!: Record<string, unknown>;

  /** PKCS#8 PEM sealed with AES-256-GCM under AUTH_ENCRYPTION_KEY (aad = kid) */
  @Column('text', { name: 'private_key_enc' })
  privateKeyEnc!: string;

  @Column('text')
  status!: 'active' | 'retired';

  @Column('timestamp with time zone', { name: 'created_at', precision: 3 })
  createdAt!: Date;

  @Column('timestamp with time zone', { name: 'retired_at', precision: 3, nullable: true })
  retiredAt!: Date | null;
}
