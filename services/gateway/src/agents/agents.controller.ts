import { Controller, Delete, Get, HttpCode, Inject, Patch, Post, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  AgentConfigSchema,
  AgentIdSchema,
  AgentListQuerySchema,
  AgentSchema,
  CreateAgentSchema,
  UpdateAgentSchema,
  pageOf,
  type Principal,
} from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { ZBody, ZParam, ZQuery } from '@agentmon/http-kit';
import { Access, CurrentPrincipal } from '../access/access.decorator.js';
import { ApiDoc } from '../openapi/zod-openapi.js';

export const PutConfigSchema = z.object({ config: z.record(z.string(), z.unknown()) });

@ApiTags('agents')
@Controller('agents')
export class AgentsController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get()
  @Access('read')
  @ApiDoc({ summary: 'List agents', query: AgentListQuerySchema, response: [200, 'AgentPage', pageOf(AgentSchema)] })
  list(@ZQuery(AgentListQuerySchema) query: z.output<typeof AgentListQuerySchema>) {
    return this.rpc.request('rpc.registry.agent.list.v1', query);
  }

  @Post()
  @Access('write')
  @ApiDoc({ summary: 'Pre-register an agent', body: ['CreateAgent', CreateAgentSchema], response: [201, 'Agent', AgentSchema] })
  create(@CurrentPrincipal() principal: Principal, @ZBody(CreateAgentSchema) agent: z.output<typeof CreateAgentSchema>) {
    return this.rpc.request('rpc.registry.agent.create.v1', { principal, agent });
  }

  @Get(':id')
  @Access('read')
  @ApiDoc({ summary: 'One agent', params: { id: AgentIdSchema }, response: [200, 'Agent', AgentSchema] })
  get(@ZParam('id', AgentIdSchema) id: string) {
    return this.rpc.request('rpc.registry.agent.get.v1', { id });
  }

  @Patch(':id')
  @Access('write')
  @ApiDoc({ summary: 'Change an agent', params: { id: AgentIdSchema }, body: ['UpdateAgent', UpdateAgentSchema], response: [200, 'Agent', AgentSchema] })
  update(
    @CurrentPrincipal() principal: Principal,
    @ZParam('id', AgentIdSchema) id: string,
    @ZBody(UpdateAgentSchema) patch: z.output<typeof UpdateAgentSchema>,
  ) {
    return this.rpc.request('rpc.registry.agent.update.v1', { principal, id, patch });
  }

  @Delete(':id')
  @HttpCode(204)
  @Access('write')
  @ApiDoc({ summary: 'Remove an agent', params: { id: AgentIdSchema }, response: [204] })
  async remove(@CurrentPrincipal() principal: Principal, @ZParam('id', AgentIdSchema) id: string): Promise<void> {
    await this.rpc.request('rpc.registry.agent.delete.v1', { principal, id });
  }

  @Get(':id/config')
  @Access('read')
  @ApiDoc({ summary: 'The agent’s current config', params: { id: AgentIdSchema }, response: [200, 'AgentConfig', AgentConfigSchema] })
  getConfig(@ZParam('id', AgentIdSchema) id: string) {
    return this.rpc.request('rpc.registry.agent.config.get.v1', { id });
  }

  @Put(':id/config')
  @Access('write')
  @ApiDoc({
    summary: 'Set the agent’s config (a new version)',
    params: { id: AgentIdSchema },
    body: ['PutAgentConfig', PutConfigSchema],
    response: [200, 'AgentConfig', AgentConfigSchema],
  })
  putConfig(
    @CurrentPrincipal() principal: Principal,
    @ZParam('id', AgentIdSchema) id: string,
    @ZBody(PutConfigSchema) body: z.output<typeof PutConfigSchema>,
  ) {
    return this.rpc.request('rpc.registry.agent.config.put.v1', { principal, id, config: body.config });
  }
}
