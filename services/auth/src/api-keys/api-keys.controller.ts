import { Controller, Inject } from '@nestjs/common';
import { RpcHandler } from '@agentmon/messaging';
import type { RpcParsedRequest } from '@agentmon/contracts';
import { ApiKeysService } from './api-keys.service.js';

@Controller()
export class ApiKeysController {
  constructor(@Inject(ApiKeysService) private readonly keys: ApiKeysService) {}

  @RpcHandler('rpc.auth.api-key.create.v1')
  async create(req: RpcParsedRequest<'rpc.auth.api-key.create.v1'>) {
    return this.keys.create(req.principal, req.key);
  }

  @RpcHandler('rpc.auth.api-key.list.v1')
  async list(req: RpcParsedRequest<'rpc.auth.api-key.list.v1'>) {
    return this.keys.list(req.principal, req.page);
  }

  @RpcHandler('rpc.auth.api-key.delete.v1')
  async delete(req: RpcParsedRequest<'rpc.auth.api-key.delete.v1'>) {
    return this.keys.revoke(req.principal, req.id);
  }

  @RpcHandler('rpc.auth.api-key.verify.v1')
  async verify(req: RpcParsedRequest<'rpc.auth.api-key.verify.v1'>) {
    return this.keys.verify(req.key, req.ip);
  }
}
