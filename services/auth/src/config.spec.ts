import { randomBytes } from 'node:crypto';
import { AuthConfigSchema } from './config.js';

const validKey = randomBytes(32).toString('base64');

describe('auth configuration', () => {
  it('applies the documented defaults', () => {
    const config = AuthConfigSchema.parse({ AUTH_ENCRYPTION_KEY: validKey });
    expect(config.PORT).toBe(8002);
    expect(config.ACCESS_TOKEN_TTL_S).toBe(900);
    expect(config.REFRESH_TOKEN_TTL_S).toBe(14 * 86_400);
    expect(config.DATABASE_URL).toMatch(/\/agentmon_auth$/);
    expect(config.AUTH_ENCRYPTION_KEY).toEqual(Buffer.from(validKey, 'base64'));
    expect(config.AGENTMON_ADMIN_PASSWORD).toBeUndefined();
  });

  it('refuses to start without AUTH_ENCRYPTION_KEY, saying what to set', () => {
    const res = AuthConfigSchema.safeParse({});
    expect(res.success).toBe(false);
    const issue = res.error!.issues.find((i) => i.path[0] === 'AUTH_ENCRYPTION_KEY');
    expect(issue?.message).toMatch(/required.*32 random bytes/);
  });

  it.each([
    ['too short', randomBytes(16).toString('base64')],
    ['too long', randomBytes(48).toString('base64')],
    ['not base64', 'not-base64-at-all!'.padEnd(44, '!')],
    ['hex instead of base64', randomBytes(32).toString('hex')],
  ])('refuses a malformed AUTH_ENCRYPTION_KEY (%s)', (_name, value) => {
    const res = AuthConfigSchema.safeParse({ AUTH_ENCRYPTION_KEY: value });
    expect(res.success).toBe(false);
    expect(res.error!.issues[0]!.message).toMatch(/base64 of 32 random bytes/);
  });

  it('refuses a weak AGENTMON_ADMIN_PASSWORD and treats an empty one as unset', () => {
    expect(AuthConfigSchema.safeParse({ AUTH_ENCRYPTION_KEY: validKey, AGENTMON_ADMIN_PASSWORD: 'short' }).success).toBe(false);
    expect(AuthConfigSchema.parse({ AUTH_ENCRYPTION_KEY: validKey, AGENTMON_ADMIN_PASSWORD: '' }).AGENTMON_ADMIN_PASSWORD).toBeUndefined();
  });
});
