import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AccessTokenClaimsSchema, AppError, type Principal } from '@agentmon/contracts';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { JwksService } from './jwks.service.js';
import { SessionChecker } from './session-checker.js';
import { userPrincipal } from './permissions.js';

export const JWT_STRATEGY = 'agentmon-jwt';

/** The `kid` of a compact JWS header, without trusting anything else in it. */
export function kidOf(rawJwt: unknown): string | undefined {
  if (typeof rawJwt !== 'string') return undefined;
  const [header] = rawJwt.split('.');
  if (!header) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof parsed.kid === 'string' && parsed.kid.length > 0 && parsed.kid.length <= 256 ? parsed.kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Access tokens: RS256 JWTs from the auth service. The key is picked by the token's `kid` from the
 * JWKS; issuer, audience and expiry are checked by passport-jwt; then the session must still be
 * active. The result is the user's Principal (without ip; the caller adds it).
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(
    @Inject(JwksService) jwks: JwksService,
    @Inject(SessionChecker) private readonly sessions: SessionChecker,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (_req: unknown, rawJwt: unknown, done: (err: unknown, key?: string) => void) => {
        const kid = kidOf(rawJwt);
        if (!kid) return done(new AppError('unauthorized', 'access token names no signing key (kid)'));
        jwks.publicKeyPem(kid).then(
          (pem) => done(null, pem),
          (err: unknown) => done(err),
        );
      },
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      algorithms: ['RS256'],
      jsonWebTokenOptions: { clockTolerance: 5 },
    });
  }

  async validate(payload: unknown): Promise<Principal> {
    const claims = AccessTokenClaimsSchema.safeParse(payload);
    if (!claims.success) throw new AppError('unauthorized', 'access token claims are not valid');
    if (!(await this.sessions.isActive(claims.data.sid, claims.data.sub))) throw new AppError('unauthorized', 'the session of this access token has ended');
    return userPrincipal(claims.data);
  }
}
