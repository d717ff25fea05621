import { Controller, Inject } from '@nestjs/common';
import { RpcHandler } from '@agentmon/messaging';
import { SERVICE_INFO, serviceHealth, type DependencyCheck, type ServiceInfo } from '@agentmon/observability';

/** Everything ingest depends on (NATS, InfluxDB, Redis), for the gateway's system health. */
export const HEALTH_RPC_CHECKS = Symbol('HEALTH_RPC_CHECKS');

/** Answers the gateway's system health question with this service's own dependencies. */
@Controller()
export class HealthRpcController {
  constructor(
    @Inject(HEALTH_RPC_CHECKS) private readonly checks: DependencyCheck[],
    @Inject(SERVICE_INFO) private readonly info: ServiceInfo,
  ) {}

  @RpcHandler('rpc.ingest.health.v1')
  async health() {
    return serviceHealth(this.info.name, this.info.version, this.checks);
  }
}
