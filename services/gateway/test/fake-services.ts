/**
 * Test doubles of the auth and registry services at the NATS boundary, for the gateway's
 * service-level test: they answer the contract's subjects with the real typed RPC handler
 * (libs/messaging), so requests and replies are checked against the same schemas as in production.
 * The auth double signs real RS256 access tokens with a key it publishes as JWKS.
 */
import { Controller, Injectable, Module, type OnModuleDestroy } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import type { INestMicroservice } from '@nestjs/common';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { pino } from 'pino';
import { AppError, type Agent, type Principal, type RevocationEvent, type Role, type RpcParsedRequest, type ServiceHealth, type User } from '@agentmon/contracts';
import { EventBus, RpcHandler } from '@agentmon/messaging';

export const KID = 'test-key-1';

export interface SigningMaterial {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function newSigningKey(kid = KID): Promise<SigningMaterial> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, publicJwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}

export interface TokenOptions {
  role: Role;
  username?: string;
  /** user id (`sub`); `user-<role>` when absent */
  sub?: string;
  sid?: string;
  kid?: string;
  key?: CryptoKey;
  expiresInSeconds?: number;
  audience?: string;
  issuer?: string;
}

/** What the doubles saw, for the test's assertions. */
export const seen = {
  agentListQueries: [] as RpcParsedRequest<'rpc.registry.agent.list.v1'>[],
  agentCreates: [] as RpcParsedRequest<'rpc.registry.agent.create.v1'>[],
  auditQueries: [] as RpcParsedRequest<'rpc.auth.audit.list.v1'>[],
  logins: [] as RpcParsedRequest<'rpc.auth.login.v1'>[],
  logouts: [] as Principal[],
  sessionChecks: 0,
  keyVerifications: 0,
};

const state = {
  signing: undefined as SigningMaterial | undefined,
  revokedSessions: new Set<string>(),
  revokedUsers: new Set<string>(),
  /** session id → user id, as signToken made them */
  sessionUsers: new Map<string, string>(),
  apiKeys: new Map<string, Principal>(),
  /** announces revocations as auth does (evt.auth.revoked.v1 on JetStream) */
  bus: undefined as EventBus | undefined,
};

async function announce(revocation: RevocationEvent extends infer E ? (E extends RevocationEvent ? Omit<E, 'id' | 'at'> : never) : never): Promise<void> {
  await state.bus!.publish('evt.auth.revoked.v1', { id: crypto.randomUUID(), at: Date.now(), ...revocation } as RevocationEvent);
}

export async function signToken(o: TokenOptions): Promise<string> {
  const signing = state.signing!;
  const now = Math.floor(Date.now() / 1000);
  const sub = o.sub ?? `user-${o.role}`;
  const sid = o.sid ?? `sess-${o.role}-${Math.random().toString(36).slice(2)}`;
  state.sessionUsers.set(sid, sub);
  return new SignJWT({ username: o.username ?? `${o.role}-user`, role: o.role, sid })
    .setProtectedHeader({ alg: 'RS256', kid: o.kid ?? KID, typ: 'JWT' })
    .setIssuer(o.issuer ?? 'agentmon')
    .setAudience(o.audience ?? 'agentmon')
    .setSubject(sub)
    .setJti(crypto.randomUUID())
    .setIssuedAt(now - 60)
    .setExpirationTime(now + (o.expiresInSeconds ?? 600))
    .sign(o.key ?? signing.privateKey);
}

export function registerApiKey(key: string, principal: Omit<Principal, 'kind' | 'id'> & { id?: string }): void {
  state.apiKeys.set(key, { kind: 'api_key', id: principal.id ?? `key-${state.apiKeys.size + 1}`, ...principal });
}

const now = () => new Date().toISOString();
export function agent(id: string, extra: Partial<Agent> = {}): Agent {
  return {
    id,
    name: `Agent ${id}`,
    type: 'llm-agent',
    version: '1.4.2',
    host: 'node-3',
    region: 'eu-west-1',
    status: 'online',
    last_seen: now(),
    tags: { env: 'prod' },
    groups: [],
    config_version: null,
    created_at: now(),
    ...extra,
  };
}
function userOf(p: Principal): User {
  return { id: p.user_id, username: p.username, email: `${p.username}@example.test`, role: p.role, active: true, created_at: now(), updated_at: now() };
}
function health(service: string): ServiceHealth {
  return { service, status: 'ok', version: '0.0.0-test', uptime_s: 1, checks: { postgres: { status: 'ok', latency_ms: 1 }, nats: { status: 'ok', latency_ms: 1 } } };
}

@Controller()
class FakeAuthController {
  @RpcHandler('rpc.auth.jwks.v1')
  async jwks() {
    return { keys: [state.signing!.publicJwk as { kty: string; kid: string; alg: string }] };
  }

  @RpcHandler('rpc.auth.session.check.v1')
  async sessionCheck(req: RpcParsedRequest<'rpc.auth.session.check.v1'>) {
    seen.sessionChecks++;
    const user = state.sessionUsers.get(req.session_id);
    return { active: !state.revokedSessions.has(req.session_id) && !(user !== undefined && state.revokedUsers.has(user)) };
  }

  @RpcHandler('rpc.auth.api-key.verify.v1')
  async verifyKey(req: RpcParsedRequest<'rpc.auth.api-key.verify.v1'>) {
    seen.keyVerifications++;
    const p = state.apiKeys.get(req.key);
    if (!p || state.revokedUsers.has(p.user_id)) throw new AppError('unauthorized', 'unknown API key');
    return p;
  }

  @RpcHandler('rpc.auth.api-key.delete.v1')
  async deleteKey(req: RpcParsedRequest<'rpc.auth.api-key.delete.v1'>) {
    const found = [...state.apiKeys.entries()].find(([, p]) => p.id === req.id);
    if (!found) throw AppError.notFound('API key', req.id);
    state.apiKeys.delete(found[0]);
    await announce({ scope: 'api_key', api_key_id: req.id, user_id: found[1].user_id, reason: 'api_key_revoked' });
    return { ok: true as const };
  }

  @RpcHandler('rpc.auth.user.update.v1')
  async updateUser(req: RpcParsedRequest<'rpc.auth.user.update.v1'>) {
    if (req.patch.active === false) {
      state.revokedUsers.add(req.id);
      await announce({ scope: 'user', user_id: req.id, reason: 'user_deactivated' });
    }
    return { id: req.id, username: req.id, email: null, role: req.patch.role ?? 'viewer', active: req.patch.active ?? true, created_at: now(), updated_at: now() };
  }

  @RpcHandler('rpc.auth.login.v1')
  async login(req: RpcParsedRequest<'rpc.auth.login.v1'>) {
    seen.logins.push(req);
    if (req.password !== 'correct horse battery') throw new AppError('unauthorized', 'wrong username or password');
    return { access_token: await signToken({ role: 'viewer', username: req.username }), refresh_token: 'amr_opaque', token_type: 'Bearer' as const, expires_in: 600 };
  }

  @RpcHandler('rpc.auth.logout.v1')
  async logout(req: RpcParsedRequest<'rpc.auth.logout.v1'>) {
    seen.logouts.push(req.principal);
    if (req.principal.session_id) {
      state.revokedSessions.add(req.principal.session_id);
      await announce({ scope: 'session', session_id: req.principal.session_id, user_id: req.principal.user_id, reason: 'logout' });
    }
    return { ok: true as const };
  }

  @RpcHandler('rpc.auth.user.profile.v1')
  async profile(req: RpcParsedRequest<'rpc.auth.user.profile.v1'>) {
    return userOf(req.principal);
  }

  @RpcHandler('rpc.auth.user.list.v1')
  async users(req: RpcParsedRequest<'rpc.auth.user.list.v1'>) {
    return { items: [userOf(req.principal)], next_cursor: null };
  }

  @RpcHandler('rpc.auth.audit.list.v1')
  async audit(req: RpcParsedRequest<'rpc.auth.audit.list.v1'>) {
    seen.auditQueries.push(req);
    return { items: [], next_cursor: null };
  }

  @RpcHandler('rpc.auth.health.v1')
  async health() {
    return health('auth');
  }
}

@Controller()
class FakeRegistryController {
  @RpcHandler('rpc.registry.agent.list.v1')
  async list(req: RpcParsedRequest<'rpc.registry.agent.list.v1'>) {
    seen.agentListQueries.push(req);
    return { items: [agent('agent-7'), agent('agent-8', { status: 'offline' })], next_cursor: 'opaque-next' };
  }

  @RpcHandler('rpc.registry.agent.get.v1')
  async get(req: RpcParsedRequest<'rpc.registry.agent.get.v1'>) {
    if (req.id !== 'agent-7') throw AppError.notFound('agent', req.id);
    return agent('agent-7');
  }

  @RpcHandler('rpc.registry.agent.create.v1')
  async create(req: RpcParsedRequest<'rpc.registry.agent.create.v1'>) {
    seen.agentCreates.push(req);
    return agent(req.agent.id, { name: req.agent.name ?? req.agent.id });
  }

  @RpcHandler('rpc.registry.agent.counts.v1')
  async counts() {
    return { total: 12, online: 9, offline: 2, degraded: 1 };
  }

  @RpcHandler('rpc.registry.health.v1')
  async health() {
    return health('registry');
  }
}

/** Closes the doubles' own NATS connection with the microservice. */
@Injectable()
class FakeBusCloser implements OnModuleDestroy {
  async onModuleDestroy() {
    await state.bus?.close();
    state.bus = undefined;
  }
}

@Module({ controllers: [FakeAuthController, FakeRegistryController], providers: [FakeBusCloser] })
class FakeServicesModule {}

/** Starts the doubles on NATS; the caller closes the returned microservice. */
export async function startFakeServices(natsUrl: string): Promise<INestMicroservice> {
  state.signing = await newSigningKey();
  state.bus = await EventBus.connect(natsUrl, 'gateway-int-fake-auth', pino({ level: 'silent' }));
  await state.bus.ensureStreams(['AUTH']);
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(FakeServicesModule, {
    transport: Transport.NATS,
    options: { servers: [natsUrl], queue: 'gateway-int-fakes' } as never,
    logger: false,
  });
  await app.listen();
  return app;
}
