import { Controller } from '@nestjs/common';
import type { RpcParsedRequest } from '@agentmon/contracts';
import { RpcHandler } from '@agentmon/messaging';
import { AlertsService } from './alerts.service.js';

/** Alert queries and acknowledgement over NATS (the gateway's /api/v2/alerts routes). */
@Controller()
export class AlertsRpcController {
  constructor(private readonly alerts: AlertsService) {}

  @RpcHandler('rpc.alerting.alert.active.v1')
  async active(req: RpcParsedRequest<'rpc.alerting.alert.active.v1'>) {
    return this.alerts.active(req);
  }

  @RpcHandler('rpc.alerting.alert.list.v1')
  async list(req: RpcParsedRequest<'rpc.alerting.alert.list.v1'>) {
    return this.alerts.list(req);
  }

  @RpcHandler('rpc.alerting.alert.get.v1')
  async get(req: RpcParsedRequest<'rpc.alerting.alert.get.v1'>) {
    return this.alerts.get(req.id);
  }

  @RpcHandler('rpc.alerting.alert.ack.v1')
  async ack(req: RpcParsedRequest<'rpc.alerting.alert.ack.v1'>) {
    return this.alerts.acknowledge(req.principal, req.id);
  }
}
