import { randomUUID } from 'node:crypto';
import {
  SignJWT,
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importPKCS8,
  jwtVerify,
  type CryptoKey,
  type JSONWebKeySet,
} from 'jose';
import type { Role } from '@agentmon/contracts';
import { open, seal } from '../crypto/secret-box.js';

export const JWT_ALG = 'RS256';
export const JWT_ISSUER = 'agentmon';
export const JWT_AUDIENCE = 'agentmon';

/** A public key as published in the JWKS (the shape of the contract's JwkSchema). */
export interface PublicJwk {
  kty: string;
  kid: string;
  alg: string;
  use: 'sig';
  [param: string]: unknown;
}

/** A key pair as stored: public JWK in clear, private key sealed under the encryption key. */
export interface SealedSigningKey {
  kid: string;
  publicJwk: PublicJwk;
  privateKeyEnc: string;
}
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

/** A fresh RSA-2048 pair; kid is the RFC 7638 thumbprint of the public key. */
export async function generateSigningKey(encryptionKey: Buffer): Promise<SealedSigningKey & SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(JWT_ALG, { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const pem = await exportPKCS8(privateKey);
  return {
    kid,
    publicJwk: { ...(jwk as Record<string, unknown>), kty: jwk.kty!, kid, alg: JWT_ALG, use: 'sig' },
    privateKeyEnc: seal(encryptionKey, pem, kid),
    privateKey,
  };
}

/** Opens a stored private key; throws SecretBoxError when the encryption key is not the one it was sealed with. */
export async function openSigningKey(encryptionKey: Buffer, stored: { kid: string; privateKeyEnc: string }): Promise<SigningKey> {
  const pem = open(encryptionKey, stored.privateKeyEnc, stored.kid).toString('utf8');
  return { kid: stored.kid, privateKey: await importPKCS8(pem, JWT_ALG) };
}

export interface AccessTokenSubject {
  userId: string;
  username: string;
  role: Role;
  sessionId: string;
}

/** Claims: iss, aud, sub (user id), username, role, sid (session id), jti, iat, exp. */
export async function signAccessToken(key: SigningKey, subject: AccessTokenSubject, ttlSeconds: number, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({ username: subject.username, role: subject.role, sid: subject.sessionId })
    .setProtectedHeader({ alg: JWT_ALG, kid: key.kid, typ: 'JWT' })
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setSubject(subject.userId)
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(key.privateKey);
}

/** How a verifier (the gateway) checks an access token against the JWKS. */
export async function verifyAccessToken(token: string, jwks: { keys: Array<Record<string, unknown>> }) {
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks as JSONWebKeySet), {
    issuer: JWT_ISSUER,
    audience: JWT_AUDIENCE,
    algorithms: [JWT_ALG],
  });
  return { payload, protectedHeader };
}
