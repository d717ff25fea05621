import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_LENGTH = 12;

/**
 * AES-256-GCM for secrets at rest. The output is `v1.<iv>.<tag>.<ciphertext>` (base64url parts);
 * `aad` binds the ciphertext to its row (a key id), so a ciphertext moved to another row fails to open.
 */
export function seal(key: Buffer, plaintext: Buffer | string, aad: string): string {
  if (key.length !== 32) throw new Error('AES-256-GCM needs a 32-byte key');
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

/** Opens what `seal` made; throws SecretBoxError when the key or the aad differ or the data was altered. */
export function open(key: Buffer, sealed: string, aad: string): Buffer {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretBoxError('not a sealed secret of a known version');
  const [iv, tag, ct] = parts.slice(1).map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    throw new SecretBoxError('cannot decrypt: wrong key or altered data');
  }
}
