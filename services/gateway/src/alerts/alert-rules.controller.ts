import { Controller, Delete, Get, HttpCode, Inject, Post, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { AlertRuleSchema, PageQuerySchema, RuleInputSchema, pageOf, type Principal } from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { ZBody, ZParam, ZQuery } from '@agentmon/http-kit';
import { Access, CurrentPrincipal } from '../access/access.decorator.js';
import { ResourceIdSchema } from '../http/schemas.js';
import { ApiDoc } from '../openapi/zod-openapi.js';

@ApiTags('alerts')
@Controller('alerts/rules')
export class AlertRulesController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post()
  @Access('write')
  @ApiDoc({ summary: 'Create an alert rule', body: ['AlertRuleInput', RuleInputSchema], response: [201, 'AlertRule', AlertRuleSchema] })
  create(@CurrentPrincipal() principal: Principal, @ZBody(RuleInputSchema) rule: z.output<typeof RuleInputSchema>) {
    return this.rpc.request('rpc.alerting.rule.create.v1', { principal, rule });
  }

  @Get()
  @Access('read')
  @ApiDoc({ summary: 'List alert rules', query: PageQuerySchema, response: [200, 'AlertRulePage', pageOf(AlertRuleSchema)] })
  list(@ZQuery(PageQuerySchema) page: z.output<typeof PageQuerySchema>) {
    return this.rpc.request('rpc.alerting.rule.list.v1', page);
  }

  @Get(':id')
  @Access('read')
  @ApiDoc({ summary: 'One alert rule', params: { id: ResourceIdSchema }, response: [200, 'AlertRule', AlertRuleSchema] })
  get(@ZParam('id', ResourceIdSchema) id: string) {
    return this.rpc.request('rpc.alerting.rule.get.v1', { id });
  }

  @Put(':id')
  @Access('write')
  @ApiDoc({
    summary: 'Replace an alert rule',
    params: { id: ResourceIdSchema },
    body: ['AlertRuleInput', RuleInputSchema],
    response: [200, 'AlertRule', AlertRuleSchema],
  })
  replace(
    @CurrentPrincipal() principal: Principal,
    @ZParam('id', ResourceIdSchema) id: string,
    @ZBody(RuleInputSchema) rule: z.output<typeof RuleInputSchema>,
  ) {
    return this.rpc.request('rpc.alerting.rule.update.v1', { principal, id, rule });
  }

  @Delete(':id')
  @HttpCode(204)
  @Access('write')
  @ApiDoc({ summary: 'Delete an alert rule', params: { id: ResourceIdSchema }, response: [204] })
  async remove(@CurrentPrincipal() principal: Principal, @ZParam('id', ResourceIdSchema) id: string): Promise<void> {
    await this.rpc.request('rpc.alerting.rule.delete.v1', { principal, id });
  }
}
