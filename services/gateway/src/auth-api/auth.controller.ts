import { Controller, Get, Header, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { JwksSchema, LoginRequestSchema, RefreshRequestSchema, TokenPairSchema, type Principal } from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { ZBody } from '@agentmon/http-kit';
import { Access, CurrentPrincipal } from '../access/access.decorator.js';
import { JwksService } from '../access/jwks.service.js';
import { SessionChecker } from '../access/session-checker.js';
import { ApiDoc } from '../openapi/zod-openapi.js';
import { GatewayRateLimits } from '../rate-limit/gateway-rate-limits.service.js';
import { RateLimitPolicy } from '../rate-limit/rate-limit-policy.decorator.js';
import type { z } from 'zod';

/** Where a login or refresh comes from, for the audit log and the session list. */
function clientInfo(req: Request) {
  const ua = req.headers['user-agent'];
  return { ...(req.ip ? { ip: req.ip } : {}), ...(typeof ua === 'string' ? { user_agent: ua.slice(0, 512) } : {}) };
}

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(JwksService) private readonly jwks: JwksService,
    @Inject(SessionChecker) private readonly sessions: SessionChecker,
    @Inject(GatewayRateLimits) private readonly rateLimits: GatewayRateLimits,
  ) {}

  @Post('login')
  @HttpCode(200)
  @Access('public')
  @RateLimitPolicy('login')
  @ApiDoc({
    summary: 'Log in with username and password',
    description: 'Attempts are limited per username and per client address (429 with Retry-After); answers carry RateLimit-Policy and RateLimit.',
    body: ['LoginRequest', LoginRequestSchema],
    response: [200, 'TokenPair', TokenPairSchema],
  })
  async login(@ZBody(LoginRequestSchema) body: z.output<typeof LoginRequestSchema>, @Req() req: Request) {
    await this.rateLimits.enforceLogin(body.username, req);
    return this.rpc.request('rpc.auth.login.v1', { ...body, ...clientInfo(req) });
  }

  @Post('refresh')
  @HttpCode(200)
  @Access('public')
  @ApiDoc({
    summary: 'Trade a refresh token for a new pair',
    description: 'A refresh token works once; presenting a used one revokes its whole session (401).',
    body: ['RefreshRequest', RefreshRequestSchema],
    response: [200, 'TokenPair', TokenPairSchema],
  })
  refresh(@ZBody(RefreshRequestSchema) body: z.output<typeof RefreshRequestSchema>, @Req() req: Request) {
    return this.rpc.request('rpc.auth.refresh.v1', { ...body, ...clientInfo(req) });
  }

  @Post('logout')
  @HttpCode(204)
  @Access('user')
  @ApiDoc({ summary: 'Revoke the current session (its access and refresh tokens stop working)', response: [204] })
  async logout(@CurrentPrincipal() principal: Principal): Promise<void> {
    await this.rpc.request('rpc.auth.logout.v1', { principal });
    if (principal.session_id) this.sessions.ended(principal.session_id);
  }

  @Get('jwks')
  @Access('public')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiDoc({ summary: 'Public keys that verify access tokens (JWKS)', response: [200, 'Jwks', JwksSchema] })
  jwksDocument() {
    return this.jwks.current();
  }
}
