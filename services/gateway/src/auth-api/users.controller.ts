import { Controller, Get, Inject, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CreateUserSchema, PageQuerySchema, UpdateUserSchema, UserSchema, pageOf, type Principal } from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { ZBody, ZParam, ZQuery } from '@agentmon/http-kit';
import type { z } from 'zod';
import { Access, CurrentPrincipal } from '../access/access.decorator.js';
import { ResourceIdSchema } from '../http/schemas.js';
import { ApiDoc } from '../openapi/zod-openapi.js';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get('profile')
  @Access('authenticated')
  @ApiDoc({ summary: 'The calling user (for an API key: its creator)', response: [200, 'User', UserSchema] })
  profile(@CurrentPrincipal() principal: Principal) {
    return this.rpc.request('rpc.auth.user.profile.v1', { principal });
  }

  @Post()
  @Access('admin')
  @ApiDoc({ summary: 'Create a user', body: ['CreateUser', CreateUserSchema], response: [201, 'User', UserSchema] })
  create(@CurrentPrincipal() principal: Principal, @ZBody(CreateUserSchema) user: z.output<typeof CreateUserSchema>) {
    return this.rpc.request('rpc.auth.user.create.v1', { principal, user });
  }

  @Get()
  @Access('admin')
  @ApiDoc({ summary: 'List users', query: PageQuerySchema, response: [200, 'UserPage', pageOf(UserSchema)] })
  list(@CurrentPrincipal() principal: Principal, @ZQuery(PageQuerySchema) page: z.output<typeof PageQuerySchema>) {
    return this.rpc.request('rpc.auth.user.list.v1', { principal, page });
  }

  @Patch(':id')
  @Access('admin')
  @ApiDoc({
    summary: 'Change a user’s role, active flag or password',
    params: { id: ResourceIdSchema },
    body: ['UpdateUser', UpdateUserSchema],
    response: [200, 'User', UserSchema],
  })
  update(
    @CurrentPrincipal() principal: Principal,
    @ZParam('id', ResourceIdSchema) id: string,
    @ZBody(UpdateUserSchema) patch: z.output<typeof UpdateUserSchema>,
  ) {
    return this.rpc.request('rpc.auth.user.update.v1', { principal, id, patch });
  }
}
