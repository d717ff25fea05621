import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { AppError, type Principal, type TokenPair } from '@agentmon/contracts';
import { decoyPasswordHash, verifyPassword } from '../crypto/password.js';
import { AuditRecorder } from '../audit/audit-recorder.service.js';
import { SessionsService, type ClientInfo } from '../sessions/sessions.service.js';
import { SigningKeyService } from '../signing-keys/signing-key.service.js';
import { UsersService } from '../users/users.service.js';
import type { UserEntity } from '../users/user.entity.js';
import { AuthMetrics } from '../metrics/auth-metrics.js';
import { auditActor } from '../principal.js';
import { RevocationPublisher } from '../revocations/revocation-publisher.service.js';

/** One message for every failed login, so a caller cannot tell an unknown user from a wrong password. */
const LOGIN_FAILED = 'invalid username or password';
const REFRESH_FAILED = 'refresh token is not valid';

/** Login, refresh rotation, logout, and session checks for the gateway. */
@Injectable()
export class AuthService implements OnModuleInit {
  constructor(
    @Inject(UsersService) private readonly users: UsersService,
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(SigningKeyService) private readonly keys: SigningKeyService,
    @Inject(AuditRecorder) private readonly audit: AuditRecorder,
    @Inject(AuthMetrics) private readonly metrics: AuthMetrics,
    @Inject(RevocationPublisher) private readonly revocations: RevocationPublisher,
  ) {}

  async onModuleInit(): Promise<void> {
    await decoyPasswordHash(); // computed once now, so the first unknown-user login is not slower than others
  }

  async login(username: string, password: string, client: ClientInfo): Promise<TokenPair> {
    const user = await this.users.findByUsername(username);
    // an unknown user costs the same scrypt work as a known one
    const passwordOk = await verifyPassword(password, user?.passwordHash ?? (await decoyPasswordHash()));
    if (!user || !passwordOk || !user.active) {
      const reason = !user ? 'unknown_user' : !passwordOk ? 'wrong_password' : 'inactive';
      this.metrics.logins.inc({ outcome: reason === 'inactive' ? 'inactive' : 'bad_credentials' });
      await this.audit.record({
        actor: user ? { kind: 'user', id: user.id, username: user.username } : { kind: 'anonymous', id: 'anonymous', username: username.slice(0, 128) },
        action: 'auth.login',
        resource_type: 'session',
        outcome: 'failure',
        ip: client.ip ?? null,
        after: { reason },
      });
      throw new AppError('unauthorized', LOGIN_FAILED);
    }
    const session = await this.sessions.start(user.id, client);
    const pair = await this.tokenPair(user, session.sessionId, session.refreshToken);
    this.metrics.logins.inc({ outcome: 'success' });
    await this.audit.record({
      actor: { kind: 'user', id: user.id, username: user.username },
      action: 'auth.login',
      resource_type: 'session',
      resource_id: session.sessionId,
      outcome: 'success',
      ip: client.ip ?? null,
    });
    return pair;
  }

  /** Every refresh rotates; an already-used token revokes its whole session. */
  async refresh(refreshToken: string, client: ClientInfo): Promise<TokenPair> {
    const result = await this.sessions.rotate(refreshToken, client);
    if (result.outcome === 'invalid') {
      this.metrics.refreshes.inc({ outcome: 'invalid' });
      throw new AppError('unauthorized', REFRESH_FAILED);
    }
    const user = await this.users.findById(result.userId);
    if (result.outcome === 'reused') {
      this.metrics.refreshes.inc({ outcome: 'reused' });
      await this.revocations.announce({ scope: 'session', session_id: result.sessionId, user_id: result.userId, reason: 'reuse' });
      await this.audit.record({
        actor: user ? { kind: 'user', id: user.id, username: user.username } : { kind: 'anonymous', id: 'anonymous' },
        action: 'auth.refresh',
        resource_type: 'session',
        resource_id: result.sessionId,
        outcome: 'failure',
        ip: client.ip ?? null,
        after: { reason: 'refresh_token_reused', session_revoked: true },
      });
      throw new AppError('unauthorized', REFRESH_FAILED);
    }
    if (!user || !user.active) {
      this.metrics.refreshes.inc({ outcome: 'user_inactive' });
      await this.sessions.revokeFamily(result.sessionId, 'user_inactive');
      await this.revocations.announce({ scope: 'session', session_id: result.sessionId, user_id: result.userId, reason: 'user_inactive' });
      throw new AppError('unauthorized', REFRESH_FAILED);
    }
    this.metrics.refreshes.inc({ outcome: 'success' });
    return this.tokenPair(user, result.sessionId, result.refreshToken);
  }

  async logout(principal: Principal): Promise<{ ok: true }> {
    if (principal.kind !== 'user') {
      throw new AppError('bad_request', 'logout ends a user session; an API key is revoked by deleting it', [
        { path: 'principal.kind', reason: 'must be a user' },
      ]);
    }
    if (!principal.session_id) {
      throw new AppError('bad_request', 'no session to end', [{ path: 'principal.session_id', reason: 'is required' }]);
    }
    const ended = await this.sessions.revokeSession(principal.session_id, principal.user_id, 'logout');
    if (ended) await this.revocations.announce({ scope: 'session', session_id: principal.session_id, user_id: principal.user_id, reason: 'logout' });
    await this.audit.record({
      actor: auditActor(principal),
      action: 'auth.logout',
      resource_type: 'session',
      resource_id: principal.session_id,
      outcome: 'success',
      ip: principal.ip ?? null,
      ...(ended ? {} : { after: { already_ended: true } }),
    });
    return { ok: true };
  }

  async sessionActive(sessionId: string): Promise<{ active: boolean }> {
    return { active: await this.sessions.isActive(sessionId) };
  }

  private async tokenPair(user: UserEntity, sessionId: string, refreshToken: string): Promise<TokenPair> {
    const { token, expiresIn } = await this.keys.signAccessToken({ userId: user.id, username: user.username, role: user.role, sessionId });
    return { access_token: token, refresh_token: refreshToken, token_type: 'Bearer', expires_in: expiresIn };
  }
}
