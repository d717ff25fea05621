import { Controller } from '@nestjs/common';
import type { RpcParsedRequest } from '@agentmon/contracts';
import { RpcHandler } from '@agentmon/messaging';
import { AlertRulesService } from './alert-rules.service.js';

/** Alert rule CRUD over NATS (the gateway's /api/v2/alerts/rules routes). */
@Controller()
export class AlertRulesRpcController {
  constructor(private readonly rules: AlertRulesService) {}

  @RpcHandler('rpc.alerting.rule.create.v1')
  async create(req: RpcParsedRequest<'rpc.alerting.rule.create.v1'>) {
    return this.rules.create(req.principal, req.rule);
  }

  @RpcHandler('rpc.alerting.rule.list.v1')
  async list(req: RpcParsedRequest<'rpc.alerting.rule.list.v1'>) {
    return this.rules.list(req);
  }

  @RpcHandler('rpc.alerting.rule.get.v1')
  async get(req: RpcParsedRequest<'rpc.alerting.rule.get.v1'>) {
    return this.rules.get(req.id);
  }

  @RpcHandler('rpc.alerting.rule.update.v1')
  async update(req: RpcParsedRequest<'rpc.alerting.rule.update.v1'>) {
    return this.rules.update(req.principal, req.id, req.rule);
  }

  @RpcHandler('rpc.alerting.rule.delete.v1')
  async delete(req: RpcParsedRequest<'rpc.alerting.rule.delete.v1'>) {
    return this.rules.delete(req.principal, req.id);
  }
}
