import { createHash, randomBytes } from 'node:crypto';

export const REFRESH_TOKEN_PREFIX = 'amr_';
export const API_KEY_PREFIX = 'amk_';
/** characters of an API key kept in clear so people can tell their keys apart */
export const API_KEY_VISIBLE_LENGTH = API_KEY_PREFIX.length + 8;

/** A bearer secret: prefix + 256 random bits in base64url. */
export function newOpaqueToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** Opaque tokens carry 256 bits of entropy, so a plain SHA-256 is a sufficient at-rest hash. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
