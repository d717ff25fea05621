import { z } from 'zod';
import { AgentIdSchema, PermissionSchema, PrincipalSchema, RoleSchema, TimeInputSchema, pageOf, PageQuerySchema, OkSchema } from './common.js';

export const LoginRequestSchema = z.object({
  username: z.string().min(1).max(128),
  password: z.string().min(1).max(1024),
});
export const TokenPairSchema = z.object({
  access_token: z.string(),
  refresh_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
});
export type TokenPair = z.infer<typeof TokenPairSchema>;
export const RefreshRequestSchema = z.object({ refresh_token: z.string().min(1).max(1024) });

/** What the gateway adds to every auth command: where the request came from. */
const ClientInfo = { ip: z.string().optional(), user_agent: z.string().optional() };

/**
 * The claims of an access token: an RS256 JWT whose header `kid` names a key of the JWKS
 * (`rpc.auth.jwks.v1`), issued by auth, verified by the gateway. Refresh tokens are opaque, not JWTs.
 */
export const AccessTokenClaimsSchema = z.object({
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  /** user id */
  sub: z.string().min(1),
  username: z.string().min(1),
  role: RoleSchema,
  /** session id: checked with `rpc.auth.session.check.v1` so that logout takes effect before expiry */
  sid: z.string().min(1),
  jti: z.string().optional(),
  iat: z.number().int(),
  exp: z.number().int(),
});
export type AccessTokenClaims = z.infer<typeof AccessTokenClaimsSchema>;

export const JwkSchema = z.object({ kty: z.string(), kid: z.string(), alg: z.string(), use: z.string().optional() }).catchall(z.unknown());
export const JwksSchema = z.object({ keys: z.array(JwkSchema) });

export const UserSchema = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string().nullable(),
  role: RoleSchema,
  active: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type User = z.infer<typeof UserSchema>;

export const CreateUserSchema = z.object({
  username: z.string().regex(/^[A-Za-z0-9._@-]{3,64}$/, 'must be 3-64 characters of letters, digits, . _ @ -'),
  email: z.email(),
  password: z.string().min(12, 'must be at least 12 characters').max(1024),
  role: RoleSchema,
});
export const UpdateUserSchema = z
  .object({
    role: RoleSchema.optional(),
    active: z.boolean().optional(),
    password: z.string().min(12, 'must be at least 12 characters').max(1024).optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'at least one of role, active, password is required');

export const ApiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  permissions: z.array(PermissionSchema),
  owner_id: z.string(),
  agent_id: z.string().nullable(),
  expires_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  created_at: z.string(),
});
export type ApiKey = z.infer<typeof ApiKeySchema>;
export const CreateApiKeySchema = z.object({
  name: z.string().min(1).max(128),
  permissions: z.array(PermissionSchema).min(1).refine((p) => new Set(p).size === p.length, 'must not repeat a permission'),
  expires_at: TimeInputSchema.optional(),
  /**
   * Binds the key to one agent: it may then push telemetry only for that agent and read only its
   * config. Only for keys whose permissions are exactly `["ingest:write"]`.
   */
  agent_id: AgentIdSchema.optional(),
});
export const CreatedApiKeySchema = ApiKeySchema.extend({ key: z.string() });

/**
 * Why credentials stopped working before their natural end. `logout`, `reuse` (a used refresh token
 * came back) and `user_inactive` end one session; `user_deactivated`, `password_changed` and
 * `role_changed` end everything of a user (sessions, and the rights their API keys resolve to);
 * `api_key_revoked` ends one key.
 */
export const RevocationReasonSchema = z.enum([
  'logout',
  'reuse',
  'user_inactive',
  'user_deactivated',
  'password_changed',
  'role_changed',
  'api_key_revoked',
]);
export type RevocationReason = z.infer<typeof RevocationReasonSchema>;
const RevocationBase = { id: z.uuid(), at: z.number().int(), reason: RevocationReasonSchema, user_id: z.string().min(1) };
/**
 * `evt.auth.revoked.v1`: published by auth after the change is committed, so that every replica that
 * caches session checks or API key verifications (gateway, ingest) forgets them at once.
 * `scope` says what to forget: one session, one API key, or everything of one user (their sessions
 * and their API keys, whose rights follow the user).
 */
export const RevocationEventSchema = z.discriminatedUnion('scope', [
  z.object({ ...RevocationBase, scope: z.literal('session'), session_id: z.string().min(1) }),
  z.object({ ...RevocationBase, scope: z.literal('api_key'), api_key_id: z.string().min(1) }),
  z.object({ ...RevocationBase, scope: z.literal('user') }),
]);
export type RevocationEvent = z.infer<typeof RevocationEventSchema>;

export const authRpc = {
  'rpc.auth.login.v1': { request: LoginRequestSchema.extend(ClientInfo), response: TokenPairSchema },
  'rpc.auth.refresh.v1': { request: RefreshRequestSchema.extend(ClientInfo), response: TokenPairSchema },
  'rpc.auth.logout.v1': { request: z.object({ principal: PrincipalSchema }), response: OkSchema },
  'rpc.auth.jwks.v1': { request: z.object({}), response: JwksSchema },
  /** Resolves an `amk_` key to its principal (401 when unknown, expired or revoked). */
  'rpc.auth.api-key.verify.v1': { request: z.object({ key: z.string(), ip: z.string().optional() }), response: PrincipalSchema },
  /** Tells whether a session is still valid, so revocation takes effect before the token expires. */
  'rpc.auth.session.check.v1': { request: z.object({ session_id: z.string() }), response: z.object({ active: z.boolean() }) },
  'rpc.auth.user.profile.v1': { request: z.object({ principal: PrincipalSchema }), response: UserSchema },
  'rpc.auth.user.create.v1': { request: z.object({ principal: PrincipalSchema, user: CreateUserSchema }), response: UserSchema },
  'rpc.auth.user.list.v1': { request: z.object({ principal: PrincipalSchema, page: PageQuerySchema }), response: pageOf(UserSchema) },
  'rpc.auth.user.update.v1': {
    request: z.object({ principal: PrincipalSchema, id: z.string(), patch: UpdateUserSchema }),
    response: UserSchema,
  },
  'rpc.auth.api-key.create.v1': {
    request: z.object({ principal: PrincipalSchema, key: CreateApiKeySchema }),
    response: CreatedApiKeySchema,
  },
  'rpc.auth.api-key.list.v1': { request: z.object({ principal: PrincipalSchema, page: PageQuerySchema }), response: pageOf(ApiKeySchema) },
  'rpc.auth.api-key.delete.v1': { request: z.object({ principal: PrincipalSchema, id: z.string() }), response: OkSchema },
} as const;
