import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { AppError } from '@agentmon/contracts';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;

/**
 * scrypt cost parameters for new hashes. They are stored with every hash, so raising them later only
 * affects new and changed passwords while old hashes keep verifying.
 * N=2^15, r=8, p=1 takes ~50-100 ms and 32 MiB per hash on a server core.
 */
export const DEFAULT_SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 64;
const SALT_LENGTH = 16;

function scryptAsync(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}
function maxmem(p: { N: number; r: number }): number {
  return 128 * p.N * p.r * 2;
}

/** `scrypt$N$r$p$<salt b64>$<hash b64>`: self-describing, so parameters can change over time. */
export async function hashPassword(password: string, params: { N: number; r: number; p: number } = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await scryptAsync(password, salt, KEY_LENGTH, { ...params, maxmem: maxmem(params) });
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Constant-time comparison of the derived key; false (never an exception) for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0)) return false;
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (expected.length === 0) return false;
  const actual = await scryptAsync(password, salt, expected.length, { N, r, p, maxmem: maxmem({ N, r }) });
  return timingSafeEqual(actual, expected);
}

/**
 * A hash of a random password, checked against when the username is unknown so that a failed login
 * takes as long for an unknown user as for a wrong password (no user enumeration by timing).
 */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(randomBytes(24).toString('base64'));
  return decoyHash;
}

/** Password policy: at least 12 characters (code points), at most 1024. */
export function passwordProblem(password: string): string | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  return undefined;
}
export function assertPasswordPolicy(password: string, path: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new AppError('bad_request', `${path} ${problem}`, [{ path, reason: problem }]);
}

/** A random password for the first admin when none is configured: 24 characters of base64url. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
