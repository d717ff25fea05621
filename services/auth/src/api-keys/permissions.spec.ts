import { exceeding, impliedPermissions, keyPrincipalRights, rolePermissions, roleOfPermissions, sortPermissions } from './permissions.js';

describe('API key permissions', () => {
  it('gives each role what the contract says a creator holds', () => {
    expect(rolePermissions('viewer')).toEqual(['read']);
    expect(sortPermissions(rolePermissions('operator'))).toEqual(['ingest:write', 'read', 'write']);
    expect(sortPermissions(rolePermissions('admin'))).toEqual(['ingest:write', 'read', 'write', 'admin']);
  });

  it('names what a request asks beyond the creator', () => {
    expect(exceeding(['read'], rolePermissions('viewer'))).toEqual([]);
    expect(exceeding(['read', 'write'], rolePermissions('viewer'))).toEqual(['write']);
    expect(exceeding(['ingest:write'], rolePermissions('viewer'))).toEqual(['ingest:write']);
    expect(exceeding(['admin', 'write'], rolePermissions('operator'))).toEqual(['admin']);
    expect(exceeding(['admin', 'write', 'read', 'ingest:write'], rolePermissions('admin'))).toEqual([]);
  });

  it('maps key permissions to a role', () => {
    expect(roleOfPermissions(['admin'])).toBe('admin');
    expect(roleOfPermissions(['read', 'write'])).toBe('operator');
    expect(roleOfPermissions(['read'])).toBe('viewer');
    expect(roleOfPermissions(['ingest:write'])).toBe('viewer');
  });

  it('expands what key permissions imply (admin everything, write also read)', () => {
    expect(impliedPermissions(['admin'])).toEqual(['ingest:write', 'read', 'write', 'admin']);
    expect(impliedPermissions(['write'])).toEqual(['read', 'write']);
    expect(impliedPermissions(['read'])).toEqual(['read']);
    expect(impliedPermissions(['ingest:write'])).toEqual(['ingest:write']);
  });

  it('caps the creator role by the key permissions', () => {
    expect(keyPrincipalRights('admin', ['admin'])).toEqual({ role: 'admin', permissions: ['admin'] });
    expect(keyPrincipalRights('admin', ['write', 'read'])).toEqual({ role: 'operator', permissions: ['read', 'write'] });
    expect(keyPrincipalRights('admin', ['read'])).toEqual({ role: 'viewer', permissions: ['read'] });
    expect(keyPrincipalRights('admin', ['ingest:write'])).toEqual({ role: 'viewer', permissions: ['ingest:write'] });
    expect(keyPrincipalRights('operator', ['ingest:write', 'read'])).toEqual({ role: 'viewer', permissions: ['ingest:write', 'read'] });
  });

  it('caps the key by its creator when the creator was demoted after minting it', () => {
    expect(keyPrincipalRights('viewer', ['admin', 'read'])).toEqual({ role: 'viewer', permissions: ['read'] });
    expect(keyPrincipalRights('operator', ['admin', 'write'])).toEqual({ role: 'operator', permissions: ['write'] });
  });
});
