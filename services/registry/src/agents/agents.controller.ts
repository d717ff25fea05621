import { Controller } from '@nestjs/common';
import { RpcHandler } from '@agentmon/messaging';
import type { RpcParsedRequest } from '@agentmon/contracts';
import { AgentsService } from './agents.service.js';

/** Request/reply surface of the registry; the logic lives in AgentsService. */
@Controller()
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  @RpcHandler('rpc.registry.agent.list.v1')
  list(req: RpcParsedRequest<'rpc.registry.agent.list.v1'>) {
    return this.agents.list(req);
  }

  @RpcHandler('rpc.registry.agent.get.v1')
  get(req: RpcParsedRequest<'rpc.registry.agent.get.v1'>) {
    return this.agents.get(req.id);
  }

  @RpcHandler('rpc.registry.agent.counts.v1')
  counts() {
    return this.agents.counts();
  }

  @RpcHandler('rpc.registry.agent.create.v1')
  create(req: RpcParsedRequest<'rpc.registry.agent.create.v1'>) {
    return this.agents.create(req.principal, req.agent);
  }

  @RpcHandler('rpc.registry.agent.update.v1')
  update(req: RpcParsedRequest<'rpc.registry.agent.update.v1'>) {
    return this.agents.update(req.principal, req.id, req.patch);
  }

  @RpcHandler('rpc.registry.agent.delete.v1')
  async delete(req: RpcParsedRequest<'rpc.registry.agent.delete.v1'>) {
    await this.agents.delete(req.principal, req.id);
    return { ok: true as const };
  }

  @RpcHandler('rpc.registry.agent.config.get.v1')
  getConfig(req: RpcParsedRequest<'rpc.registry.agent.config.get.v1'>) {
    return this.agents.getConfig(req.id);
  }

  @RpcHandler('rpc.registry.agent.config.put.v1')
  putConfig(req: RpcParsedRequest<'rpc.registry.agent.config.put.v1'>) {
    return this.agents.putConfig(req.principal, req.id, req.config);
  }

  @RpcHandler('rpc.registry.agent.heartbeat.v1')
  heartbeat(req: RpcParsedRequest<'rpc.registry.agent.heartbeat.v1'>) {
    return this.agents.heartbeat(req);
  }
}
