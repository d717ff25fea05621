import { Controller, Delete, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiKeySchema, CreateApiKeySchema, CreatedApiKeySchema, PageQuerySchema, pageOf, type Principal } from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { ZBody, ZParam, ZQuery } from '@agentmon/http-kit';
import type { z } from 'zod';
import { Access, CurrentPrincipal } from '../access/access.decorator.js';
import { ResourceIdSchema } from '../http/schemas.js';
import { ApiDoc } from '../openapi/zod-openapi.js';

/** Everyone manages their own keys; the auth service caps a key's permissions at its creator's. */
@ApiTags('api-keys')
@Controller('api-keys')
export class ApiKeysController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post()
  @Access('authenticated')
  @ApiDoc({
    summary: 'Create an API key (the key is shown once)',
    description: 'permissions ⊆ {ingest:write, read, write, admin}, never more than the caller holds (else 403).',
    body: ['CreateApiKey', CreateApiKeySchema],
    response: [201, 'CreatedApiKey', CreatedApiKeySchema],
  })
  create(@CurrentPrincipal() principal: Principal, @ZBody(CreateApiKeySchema) key: z.output<typeof CreateApiKeySchema>) {
    return this.rpc.request('rpc.auth.api-key.create.v1', { principal, key });
  }

  @Get()
  @Access('authenticated')
  @ApiDoc({ summary: 'List API keys (own keys; all keys for admins)', query: PageQuerySchema, response: [200, 'ApiKeyPage', pageOf(ApiKeySchema)] })
  list(@CurrentPrincipal() principal: Principal, @ZQuery(PageQuerySchema) page: z.output<typeof PageQuerySchema>) {
    return this.rpc.request('rpc.auth.api-key.list.v1', { principal, page });
  }

  @Delete(':id')
  @HttpCode(204)
  @Access('authenticated')
  @ApiDoc({ summary: 'Revoke an API key', params: { id: ResourceIdSchema }, response: [204] })
  async remove(@CurrentPrincipal() principal: Principal, @ZParam('id', ResourceIdSchema) id: string): Promise<void> {
    await this.rpc.request('rpc.auth.api-key.delete.v1', { principal, id });
  }
}
