import { Inject, Injectable } from '@nestjs/common';
import passport from 'passport';
import { AppError, type Principal } from '@agentmon/contracts';
import { API_KEY_PREFIX, ApiKeyVerifier } from './api-key.verifier.js';
import { JWT_STRATEGY, JwtStrategy } from './jwt.strategy.js';

/** What a request presents: its Authorization and X-API-Key headers, and the client's address. */
export interface Credentials {
  authorization?: string | undefined;
  apiKey?: string | undefined;
  ip?: string | undefined;
}

/**
 * Turns credentials into a Principal, for HTTP requests and socket handshakes alike:
 * `Authorization: Bearer <access JWT>`, `Authorization: Bearer amk_...` or `X-API-Key: amk_...`.
 * Throws 401 when the credentials are missing or not valid, 503 when auth cannot be asked.
 */
@Injectable()
export class Authenticator {
  constructor(
    @Inject(ApiKeyVerifier) private readonly apiKeys: ApiKeyVerifier,
    // injected so that Nest creates it first: the strategy registers itself with passport as JWT_STRATEGY
    @Inject(JwtStrategy) _jwtStrategy: JwtStrategy,
  ) {}

  async authenticate(creds: Credentials): Promise<Principal> {
    const { authorization, apiKey, ip } = creds;
    if (authorization !== undefined && authorization !== '') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!m) throw new AppError('unauthorized', 'Authorization must be "Bearer <token>"');
      return this.authenticateToken(m[1]!, ip);
    }
    if (apiKey !== undefined && apiKey !== '') return this.apiKeys.verify(apiKey.trim(), ip);
    throw new AppError('unauthorized', 'authentication required: send Authorization: Bearer <token> or X-API-Key');
  }

  /** A bare token: an access JWT or an `amk_` API key (the socket handshake's `auth.token`). */
  async authenticateToken(token: string, ip?: string): Promise<Principal> {
    if (token.startsWith(API_KEY_PREFIX)) return this.apiKeys.verify(token, ip);
    const principal = await this.verifyJwt(token);
    return ip ? { ...principal, ip } : principal;
  }

  /** Runs the passport-jwt strategy on the token alone (no request object of ours reaches passport). */
  private verifyJwt(token: string): Promise<Principal> {
    const req = { headers: { authorization: `Bearer ${token}` } };
    return new Promise<Principal>((resolve, reject) => {
      const middleware = passport.authenticate(
        JWT_STRATEGY,
        { session: false },
        (err: unknown, user: Principal | false, info: unknown) => {
          if (err) return reject(err instanceof AppError ? err : new AppError('unauthorized', 'access token is not valid'));
          if (user) return resolve(user);
          reject(jwtFailure(info));
        },
      ) as (req: unknown, res: unknown, next: (err?: unknown) => void) => void;
      middleware(req, {}, (err?: unknown) => reject(err ?? new AppError('unauthorized', 'access token is not valid')));
    });
  }
}

/** Why passport-jwt refused a token, in words that give nothing away. */
function jwtFailure(info: unknown): AppError {
  if (info instanceof AppError) return info;
  const name = (info as { name?: string } | undefined)?.name;
  if (name === 'TokenExpiredError') return new AppError('unauthorized', 'access token has expired');
  if (name === 'NotBeforeError') return new AppError('unauthorized', 'access token is not valid yet');
  return new AppError('unauthorized', 'access token is not valid');
}
