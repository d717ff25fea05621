import { Controller, Inject } from '@nestjs/common';
import { RpcHandler } from '@agentmon/messaging';
import type { RpcParsedRequest } from '@agentmon/contracts';
import { DeliveryService } from './delivery.service.js';
import { AttemptsRepository } from './attempts.repository.js';

@Controller()
export class DeliveryRpcController {
  constructor(
    @Inject(DeliveryService) private readonly delivery: DeliveryService,
    @Inject(AttemptsRepository) private readonly attempts: AttemptsRepository,
  ) {}

  @RpcHandler('rpc.notification.channel.test.v1')
  async test(req: RpcParsedRequest<'rpc.notification.channel.test.v1'>) {
    return this.delivery.sendTest(req.principal, req.id);
  }

  @RpcHandler('rpc.notification.alert.attempts.v1')
  async attemptsOf(req: RpcParsedRequest<'rpc.notification.alert.attempts.v1'>) {
    return { items: await this.attempts.forAlert(req.alert_id), next_cursor: null };
  }
}
