import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader, SignJWT } from 'jose';
import { SecretBoxError } from '../crypto/secret-box.js';
import { generateSigningKey, openSigningKey, signAccessToken, verifyAccessToken, type SigningKey } from './jwt.js';

describe('access tokens (RS256 JWT)', () => {
  const encryptionKey = randomBytes(32);
  const subject = { userId: '6f1c1f7e-9c1a-4c56-9a57-2f5f0a3c1d01', username: 'ada', role: 'operator' as const, sessionId: '0b9f6c2e-1d3a-4e8b-8f6a-5c4d3b2a1f00' };
  let key: Awaited<ReturnType<typeof generateSigningKey>>;

  beforeAll(async () => {
    key = await generateSigningKey(encryptionKey);
  });

  it('publishes a public JWK with kid, alg RS256 and use sig, and no private parts', () => {
    expect(key.publicJwk).toMatchObject({ kty: 'RSA', kid: key.kid, alg: 'RS256', use: 'sig' });
    expect(key.publicJwk).not.toHaveProperty('d');
    expect(key.publicJwk).not.toHaveProperty('p');
  });

  it('issues a token that verifies against the JWKS with the documented claims', async () => {
    const now = Date.now();
    const token = await signAccessToken(key, subject, 900, now);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid: key.kid });
    const { payload } = await verifyAccessToken(token, { keys: [key.publicJwk] });
    expect(payload).toMatchObject({
      iss: 'agentmon',
      aud: 'agentmon',
      sub: subject.userId,
      username: 'ada',
      role: 'operator',
      sid: subject.sessionId,
    });
    expect(payload.jti).toEqual(expect.any(String));
    expect(payload.exp! - payload.iat!).toBe(900);
  });

  it('gives every token its own jti', async () => {
    const a = await verifyAccessToken(await signAccessToken(key, subject, 60), { keys: [key.publicJwk] });
    const b = await verifyAccessToken(await signAccessToken(key, subject, 60), { keys: [key.publicJwk] });
    expect(a.payload.jti).not.toBe(b.payload.jti);
  });

  it('refuses an expired token', async () => {
    const token = await signAccessToken(key, subject, 60, Date.now() - 3_600_000);
    await expect(verifyAccessToken(token, { keys: [key.publicJwk] })).rejects.toThrow(/exp/);
  });

  it('refuses a token signed by a key not in the JWKS', async () => {
    const other = await generateSigningKey(encryptionKey);
    const token = await signAccessToken(other, subject, 60);
    await expect(verifyAccessToken(token, { keys: [key.publicJwk] })).rejects.toThrow();
  });

  it('refuses a tampered token', async () => {
    const token = await signAccessToken(key, subject, 60);
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    await expect(verifyAccessToken(`${h}.${forged}.${s}`, { keys: [key.publicJwk] })).rejects.toThrow(/signature/);
  });

  it('refuses a token for another audience or issuer', async () => {
    const signer: SigningKey = key;
    const token = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .setIssuer('someone-else')
      .setAudience('agentmon')
      .setSubject(subject.userId)
      .setExpirationTime('5m')
      .sign(signer.privateKey);
    await expect(verifyAccessToken(token, { keys: [key.publicJwk] })).rejects.toThrow(/iss/);
  });

  it('keeps the private key sealed, and opens it only with the same encryption key', async () => {
    expect(key.privateKeyEnc).not.toMatch(/PRIVATE KEY/);
    const reopened = await openSigningKey(encryptionKey, key);
    const token = await signAccessToken(reopened, subject, 60);
    await expect(verifyAccessToken(token, { keys: [key.publicJwk] })).resolves.toBeDefined();
    await expect(openSigningKey(randomBytes(32), key)).rejects.toThrow(SecretBoxError);
  });
});
