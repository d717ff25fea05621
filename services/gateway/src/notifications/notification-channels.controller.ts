import { Controller, Delete, Get, HttpCode, Inject, Post, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { ChannelInputSchema, ChannelSchema, ChannelTestResultSchema, PageQuerySchema, pageOf, type Principal } from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { ZBody, ZParam, ZQuery } from '@agentmon/http-kit';
import { Access, CurrentPrincipal } from '../access/access.decorator.js';
import { ResourceIdSchema } from '../http/schemas.js';
import { ApiDoc } from '../openapi/zod-openapi.js';

/** A test delivery can take as long as the notification service's delivery timeout. */
const TEST_DELIVERY_TIMEOUT_MS = 20_000;

@ApiTags('notification-channels')
@Controller('notification-channels')
export class NotificationChannelsController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post()
  @Access('write')
  @ApiDoc({
    summary: 'Create a notification channel',
    description: 'Secrets in config (webhook secret and headers, Slack/Teams URLs, SMTP credentials) are stored encrypted and never returned.',
    body: ['ChannelInput', ChannelInputSchema],
    response: [201, 'Channel', ChannelSchema],
  })
  create(@CurrentPrincipal() principal: Principal, @ZBody(ChannelInputSchema) channel: z.output<typeof ChannelInputSchema>) {
    return this.rpc.request('rpc.notification.channel.create.v1', { principal, channel });
  }

  @Get()
  @Access('read')
  @ApiDoc({ summary: 'List notification channels', query: PageQuerySchema, response: [200, 'ChannelPage', pageOf(ChannelSchema)] })
  list(@ZQuery(PageQuerySchema) page: z.output<typeof PageQuerySchema>) {
    return this.rpc.request('rpc.notification.channel.list.v1', page);
  }

  @Get(':id')
  @Access('read')
  @ApiDoc({ summary: 'One notification channel', params: { id: ResourceIdSchema }, response: [200, 'Channel', ChannelSchema] })
  get(@ZParam('id', ResourceIdSchema) id: string) {
    return this.rpc.request('rpc.notification.channel.get.v1', { id });
  }

  @Put(':id')
  @Access('write')
  @ApiDoc({
    summary: 'Replace a notification channel (secrets left out are removed)',
    params: { id: ResourceIdSchema },
    body: ['ChannelInput', ChannelInputSchema],
    response: [200, 'Channel', ChannelSchema],
  })
  replace(
    @CurrentPrincipal() principal: Principal,
    @ZParam('id', ResourceIdSchema) id: string,
    @ZBody(ChannelInputSchema) channel: z.output<typeof ChannelInputSchema>,
  ) {
    return this.rpc.request('rpc.notification.channel.update.v1', { principal, id, channel });
  }

  @Delete(':id')
  @HttpCode(204)
  @Access('write')
  @ApiDoc({ summary: 'Delete a notification channel', params: { id: ResourceIdSchema }, response: [204] })
  async remove(@CurrentPrincipal() principal: Principal, @ZParam('id', ResourceIdSchema) id: string): Promise<void> {
    await this.rpc.request('rpc.notification.channel.delete.v1', { principal, id });
  }

  @Post(':id/test')
  @HttpCode(200)
  @Access('write')
  @ApiDoc({ summary: 'Send a test notification through the channel', params: { id: ResourceIdSchema }, response: [200, 'ChannelTestResult', ChannelTestResultSchema] })
  test(@CurrentPrincipal() principal: Principal, @ZParam('id', ResourceIdSchema) id: string) {
    return this.rpc.request('rpc.notification.channel.test.v1', { principal, id }, { timeoutMs: TEST_DELIVERY_TIMEOUT_MS });
  }
}
