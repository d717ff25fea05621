import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { RpcResponse } from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { LOGGER } from '../logger.token.js';

/** Each part of the overview may take this long; a slow service shows as unavailable, not as a slow page. */
const PART_TIMEOUT_MS = 2_000;

export interface Overview {
  agents: RpcResponse<'rpc.registry.agent.counts.v1'> | null;
  alerts: { firing: number; pending: number; by_severity: { critical: number; warning: number; info: number } } | null;
  ingest: RpcResponse<'rpc.ingest.stats.v1'> | null;
  /** the services that could not answer (their part is null) */
  unavailable: ('registry' | 'alerting' | 'ingest')[];
  generated_at: string;
}

@Injectable()
export class DashboardService {
  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Agents by status, firing alerts by severity, ingest rate; a part whose service is down is null. */
  async overview(): Promise<Overview> {
    const opts = { timeoutMs: PART_TIMEOUT_MS };
    const [agents, active, ingest] = await Promise.allSettled([
      this.rpc.request('rpc.registry.agent.counts.v1', {}, opts),
      this.rpc.request('rpc.alerting.alert.active.v1', {}, opts),
      this.rpc.request('rpc.ingest.stats.v1', {}, opts),
    ]);
    const unavailable: Overview['unavailable'] = [];
    const part = <T>(r: PromiseSettledResult<T>, svc: Overview['unavailable'][number]): T | null => {
      if (r.status === 'fulfilled') return r.value;
      unavailable.push(svc);
      this.logger.warn({ err: r.reason, service: svc }, 'dashboard overview: a service did not answer');
      return null;
    };
    const agentCounts = part(agents, 'registry');
    const activeAlerts = part(active, 'alerting');
    const ingestStats = part(ingest, 'ingest');
    let alerts: Overview['alerts'] = null;
    if (activeAlerts) {
      const by_severity = { critical: 0, warning: 0, info: 0 };
      let firing = 0;
      let pending = 0;
      for (const a of activeAlerts.items) {
        if (a.status === 'firing') {
          firing++;
          by_severity[a.severity]++;
        } else if (a.status === 'pending') pending++;
      }
      alerts = { firing, pending, by_severity };
    }
    return { agents: agentCounts, alerts, ingest: ingestStats, unavailable, generated_at: new Date().toISOString() };
  }
}
