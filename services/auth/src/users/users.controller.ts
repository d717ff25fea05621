import { Controller, Inject } from '@nestjs/common';
import { RpcHandler } from '@agentmon/messaging';
import type { RpcParsedRequest } from '@agentmon/contracts';
import { UsersService } from './users.service.js';

@Controller()
export class UsersController {
  constructor(@Inject(UsersService) private readonly users: UsersService) {}

  @RpcHandler('rpc.auth.user.profile.v1')
  async profile(req: RpcParsedRequest<'rpc.auth.user.profile.v1'>) {
    return this.users.profile(req.principal);
  }

  @RpcHandler('rpc.auth.user.create.v1')
  async create(req: RpcParsedRequest<'rpc.auth.user.create.v1'>) {
    return this.users.create(req.principal, req.user);
  }

  @RpcHandler('rpc.auth.user.list.v1')
  async list(req: RpcParsedRequest<'rpc.auth.user.list.v1'>) {
    return this.users.list(req.principal, req.page);
  }

  @RpcHandler('rpc.auth.user.update.v1')
  async update(req: RpcParsedRequest<'rpc.auth.user.update.v1'>) {
    return this.users.update(req.principal, req.id, req.patch);
  }
}
