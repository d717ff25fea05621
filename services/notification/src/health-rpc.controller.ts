import { Controller, Inject } from '@nestjs/common';
import { RpcHandler } from '@agentmon/messaging';
import { DEPENDENCY_CHECKS, SERVICE_INFO, serviceHealth, type DependencyCheck, type ServiceInfo } from '@agentmon/observability';

/** Answers the gateway's system health question with this service's own dependencies. */
@Controller()
export class HealthRpcController {
  constructor(
    @Inject(DEPENDENCY_CHECKS) private readonly checks: DependencyCheck[],
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
  ) {}

  @RpcHandler('rpc.notification.health.v1')
  async health() {
    return serviceHealth(this.info.name, this.info.version, this.checks);
  }
}
