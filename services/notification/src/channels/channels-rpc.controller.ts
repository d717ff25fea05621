import { Controller, Inject } from '@nestjs/common';
import { RpcHandler } from '@agentmon/messaging';
import type { RpcParsedRequest } from '@agentmon/contracts';
import { ChannelsService } from './channels.service.js';

/** Channels CRUD over NATS; the gateway maps `/api/v2/notification-channels` onto these. */
@Controller()
export class ChannelsRpcController {
  constructor(@Inject(ChannelsService) private readonly channels: ChannelsService) {}

  @RpcHandler('rpc.notification.channel.create.v1')
  async create(req: RpcParsedRequest<'rpc.notification.channel.create.v1'>) {
    return this.channels.create(req.principal, req.channel);
  }

  @RpcHandler('rpc.notification.channel.list.v1')
  async list(req: RpcParsedRequest<'rpc.notification.channel.list.v1'>) {
    return this.channels.list(req);
  }

  @RpcHandler('rpc.notification.channel.get.v1')
  async get(req: RpcParsedRequest<'rpc.notification.channel.get.v1'>) {
    return this.channels.get(req.id);
  }

  @RpcHandler('rpc.notification.channel.update.v1')
  async update(req: RpcParsedRequest<'rpc.notification.channel.update.v1'>) {
    return this.channels.update(req.principal, req.id, req.channel);
  }

  @RpcHandler('rpc.notification.channel.delete.v1')
  async delete(req: RpcParsedRequest<'rpc.notification.channel.delete.v1'>) {
    await this.channels.delete(req.principal, req.id);
    return { ok: true as const };
  }
}
