import { randomBytes } from 'node:crypto';
import { SecretBox, SecretBoxError } from './secret-box.js';
import { decodeEncryptionKey } from '../config.js';

describe('SecretBox (AES-256-GCM)', () => {
  const box = new SecretBox(randomBytes(32));
  const aad = 'notification_channel:0b6f3c52-4d5c-4f43-9d8a-1f2f3e4d5c6b';

  it('round-trips text and JSON', () => {
    const sealed = box.seal('s3cr3t ✓', aad);
    expect(box.open(sealed, aad)).toBe('s3cr3t ✓');
    const obj = { secret: 'abc', headers: { Authorization: 'Bearer x' } };
    expect(box.openJson(box.sealJson(obj, aad), aad)).toEqual(obj);
  });

  it('never stores the plaintext and uses a fresh IV each time', () => {
    const a = box.seal('hunter2-hunter2', aad);
    const b = box.seal('hunter2-hunter2', aad);
    expect(a).not.toBe(b);
    expect(a).not.toContain('hunter2');
    expect(Buffer.from(a.split('.')[3]!, 'base64url').toString('utf8')).not.toContain('hunter2');
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
  });

  it('detects a changed ciphertext byte', () => {
    const sealed = box.seal('payload', aad);
    const [v, iv, tag, data] = sealed.split('.') as [string, string, string, string];
    const bytes = Buffer.from(data, 'base64url');
    bytes[0] = bytes[0]! ^ 0x01;
    expect(() => box.open([v, iv, tag, bytes.toString('base64url')].join('.'), aad)).toThrow(SecretBoxError);
  });

  it('detects a changed tag or IV', () => {
    const sealed = box.seal('payload', aad);
    const [v, iv, tag, data] = sealed.split('.') as [string, string, string, string];
    const badTag = Buffer.from(tag, 'base64url');
    badTag[5] = badTag[5]! ^ 0xff;
    expect(() => box.open([v, iv, badTag.toString('base64url'), data].join('.'), aad)).toThrow(SecretBoxError);
    const badIv = Buffer.from(iv, 'base64url');
    badIv[0] = badIv[0]! ^ 0x80;
    expect(() => box.open([v, badIv.toString('base64url'), tag, data].join('.'), aad)).toThrow(SecretBoxError);
  });

  it('refuses a blob moved to another record (associated data)', () => {
    const sealed = box.seal('payload', aad);
    expect(() => box.open(sealed, 'notification_channel:another')).toThrow(/failed authentication/);
  });

  it('refuses a blob sealed with another key', () => {
    const sealed = new SecretBox(randomBytes(32)).seal('payload', aad);
    expect(() => box.open(sealed, aad)).toThrow(SecretBoxError);
  });

  it('refuses malformed input', () => {
    expect(() => box.open('plaintext', aad)).toThrow(/unknown format/);
    expect(() => box.open('v2.a.b.c', aad)).toThrow(/unknown format/);
  });

  it('needs a 32-byte key', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('NOTIFICATION_ENCRYPTION_KEY decoding', () => {
  it('takes base64 (and base64url) of 32 bytes', () => {
    const key = randomBytes(32);
    expect(decodeEncryptionKey(key.toString('base64'))?.equals(key)).toBe(true);
    expect(decodeEncryptionKey(key.toString('base64url'))?.equals(key)).toBe(true);
  });
  it('refuses other lengths and non-base64 text', () => {
    expect(decodeEncryptionKey(randomBytes(16).toString('base64'))).toBeUndefined();
    expect(decodeEncryptionKey(randomBytes(33).toString('base64'))).toBeUndefined();
    expect(decodeEncryptionKey('not a key at all, clearly!')).toBeUndefined();
    expect(decodeEncryptionKey('')).toBeUndefined();
  });
});
