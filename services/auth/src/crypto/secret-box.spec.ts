import { randomBytes } from 'node:crypto';
import { open, seal, SecretBoxError } from './secret-box.js';

describe('AES-256-GCM secret box', () => {
  const key = randomBytes(32);

  it('opens what it sealed', () => {
    const sealed = seal(key, 'private key material', 'kid-1');
    expect(sealed.startsWith('v1.')).toBe(true);
    expect(sealed).not.toContain('private key material');
    expect(open(key, sealed, 'kid-1').toString()).toBe('private key material');
  });

  it('uses a fresh IV each time', () => {
    expect(seal(key, 'x', 'a')).not.toBe(seal(key, 'x', 'a'));
  });

  it('refuses another key, another row (aad) or altered data', () => {
    const sealed = seal(key, 'secret', 'kid-1');
    expect(() => open(randomBytes(32), sealed, 'kid-1')).toThrow(SecretBoxError);
    expect(() => open(key, sealed, 'kid-2')).toThrow(SecretBoxError);
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] ^= 1;
    expect(() => open(key, [...parts.slice(0, 3), ct.toString('base64url')].join('.'), 'kid-1')).toThrow(SecretBoxError);
    expect(() => open(key, 'v0.a.b.c', 'kid-1')).toThrow(SecretBoxError);
  });
});
