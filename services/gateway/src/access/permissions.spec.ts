import type { Principal } from '@agentmon/contracts';
import { ROLE_PERMISSIONS, allows, apiKeyPrincipal, effectivePermissions, userPrincipal, type AccessLevel } from './permissions.js';

const user = (role: Principal['role']) => userPrincipal({ sub: 'u-1', username: 'ana', role, sid: 's-1' }, '10.0.0.7');
const key = (role: Principal['role'], permissions: Principal['permissions']): Principal =>
  apiKeyPrincipal({ kind: 'api_key', id: 'k-1', user_id: 'u-1', username: 'ana', role, permissions }, '10.0.0.8');

const LEVELS: AccessLevel[] = ['public', 'authenticated', 'user', 'read', 'write', 'admin'];
const table = (p: Principal | undefined) => Object.fromEntries(LEVELS.map((l) => [l, allows(p, l)]));

describe('role permissions', () => {
  it('gives each role what the contract says', () => {
    expect(ROLE_PERMISSIONS.viewer).toEqual(['read']);
    expect(ROLE_PERMISSIONS.operator).toEqual(['read', 'write', 'ingest:write']);
    expect(ROLE_PERMISSIONS.admin).toEqual(['read', 'write', 'admin', 'ingest:write']);
  });

  it('builds a user principal from token claims, with the client ip', () => {
    expect(user('operator')).toEqual({
      kind: 'user',
      id: 'u-1',
      user_id: 'u-1',
      username: 'ana',
      role: 'operator',
      permissions: ['read', 'write', 'ingest:write'],
      session_id: 's-1',
      ip: '10.0.0.7',
    });
  });
});

describe('allows', () => {
  it('lets anyone through public routes and nobody else through the rest without a principal', () => {
    expect(table(undefined)).toEqual({ public: true, authenticated: false, user: false, read: false, write: false, admin: false });
  });

  it('viewer reads, operator also writes, admin does everything', () => {
    expect(table(user('viewer'))).toEqual({ public: true, authenticated: true, user: true, read: true, write: false, admin: false });
    expect(table(user('operator'))).toEqual({ public: true, authenticated: true, user: true, read: true, write: true, admin: false });
    expect(table(user('admin'))).toEqual({ public: true, authenticated: true, user: true, read: true, write: true, admin: true });
  });

  it('an ingest-only key gets nothing from the gateway: it is for the ingest port', () => {
    expect(table(key('operator', ['ingest:write']))).toEqual({ public: true, authenticated: false, user: false, read: false, write: false, admin: false });
  });

  it('keys with a gateway permission are authenticated, but never a login session', () => {
    expect(table(key('viewer', ['read']))).toEqual({ public: true, authenticated: true, user: false, read: true, write: false, admin: false });
    expect(table(key('admin', ['admin']))).toEqual({ public: true, authenticated: true, user: false, read: true, write: true, admin: true });
  });

  it('write implies read and admin implies write for keys', () => {
    expect(table(key('operator', ['write']))).toMatchObject({ read: true, write: true, admin: false });
    expect(table(key('admin', ['admin']))).toMatchObject({ read: true, write: true, admin: true });
    expect([...effectivePermissions(['admin'])].sort()).toEqual(['admin', 'read', 'write']);
  });
});

describe('apiKeyPrincipal', () => {
  it('keeps what auth resolved (an ingest key of an operator amounts to a viewer without read)', () => {
    const p = key('viewer', ['ingest:write']);
    expect(p.permissions).toEqual(['ingest:write']);
    expect(allows(p, 'read')).toBe(false);
    expect(allows(p, 'authenticated')).toBe(false);
  });

  it('keeps the key identity and replaces the ip with the caller’s', () => {
    const p = apiKeyPrincipal({ kind: 'api_key', id: 'k-9', user_id: 'u-2', username: 'ci', role: 'operator', permissions: ['read'], ip: '1.2.3.4' }, '5.6.7.8');
    expect(p).toEqual({ kind: 'api_key', id: 'k-9', user_id: 'u-2', username: 'ci', role: 'operator', permissions: ['read'], ip: '5.6.7.8' });
  });
});
