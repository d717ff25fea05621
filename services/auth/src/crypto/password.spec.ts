import { assertPasswordPolicy, hashPassword, passwordProblem, verifyPassword } from './password.js';
import { AppError } from '@agentmon/contracts';

// cheaper parameters keep the suite fast; the production parameters are exercised once below
const FAST = { N: 1024, r: 8, p: 1 };

describe('password hashing (scrypt)', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('correct horse battery staple', FAST);
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('salts every hash, so equal passwords hash differently', async () => {
    const a = await hashPassword('same password here', FAST);
    const b = await hashPassword('same password here', FAST);
    expect(a).not.toBe(b);
    expect(a.split('$')[4]).not.toBe(b.split('$')[4]);
  });

  it('stores its parameters with the hash, never the password', async () => {
    const hash = await hashPassword('a secret password', FAST);
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(hash).not.toContain('a secret password');
  });

  it('uses the default cost parameters when none are given', async () => {
    const hash = await hashPassword('default cost password');
    expect(hash.startsWith('scrypt$32768$8$1$')).toBe(true);
    expect(await verifyPassword('default cost password', hash)).toBe(true);
  });

  it('treats canonically equal Unicode spellings as the same password', async () => {
    const hash = await hashPassword('caf\u00e9-password-1', FAST);
    expect(await verifyPassword('cafe\u0301-password-1', hash)).toBe(true);
  });

  it('answers false, not an exception, for a malformed stored hash', async () => {
    for (const bad of ['', 'plain', 'scrypt$x$8$1$AAAA$BBBB', 'bcrypt$1$2$3$4$5', 'scrypt$1024$8$1$AAAA$']) {
      expect(await verifyPassword('whatever-password', bad)).toBe(false);
    }
  });
});

describe('password policy', () => {
  it('needs at least 12 characters, counted as characters not bytes', () => {
    expect(passwordProblem('short')).toMatch(/at least 12/);
    expect(passwordProblem('elevenchars')).toMatch(/at least 12/);
    expect(passwordProblem('twelve chars')).toBeUndefined();
    expect(passwordProblem('\u{1F600}'.repeat(11))).toMatch(/at least 12/);
  });
  it('refuses with a 400 naming the field', () => {
    try {
      assertPasswordPolicy('tooshort', 'user.password');
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).statusCode).toBe(400);
      expect((err as AppError).details).toEqual([{ path: 'user.password', reason: expect.stringMatching(/12/) }]);
    }
  });
});
