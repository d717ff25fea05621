import { Controller, Inject } from '@nestjs/common';
import { RpcHandler } from '@agentmon/messaging';
import type { RpcParsedRequest } from '@agentmon/contracts';
import { SigningKeyService } from '../signing-keys/signing-key.service.js';
import { AuthService } from './auth.service.js';

@Controller()
export class AuthController {
  constructor(
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(SigningKeyService) private readonly keys: SigningKeyService,
  ) {}

  @RpcHandler('rpc.auth.login.v1')
  async login(req: RpcParsedRequest<'rpc.auth.login.v1'>) {
    return this.auth.login(req.username, req.password, { ip: req.ip, user_agent: req.user_agent });
  }

  @RpcHandler('rpc.auth.refresh.v1')
  async refresh(req: RpcParsedRequest<'rpc.auth.refresh.v1'>) {
    return this.auth.refresh(req.refresh_token, { ip: req.ip, user_agent: req.user_agent });
  }

  @RpcHandler('rpc.auth.logout.v1')
  async logout(req: RpcParsedRequest<'rpc.auth.logout.v1'>) {
    return this.auth.logout(req.principal);
  }

  @RpcHandler('rpc.auth.session.check.v1')
  async sessionCheck(req: RpcParsedRequest<'rpc.auth.session.check.v1'>) {
    return this.auth.sessionActive(req.session_id);
  }

  @RpcHandler('rpc.auth.jwks.v1')
  async jwks() {
    return this.keys.jwks();
  }
}
