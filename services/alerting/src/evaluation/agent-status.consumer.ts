import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AgentStatusChanged } from '@agentmon/contracts';
import { EventBus } from '@agentmon/messaging';
import { LOGGER } from '../logger.token.js';
import { RuleCache } from '../rules/rule-cache.service.js';
import { AlertStateService, pairKey } from '../alerts/alert-state.service.js';
import { AgentDirectory } from '../agents/agent-directory.service.js';
import { RuleEvaluator } from './rule-evaluator.service.js';
import { EvaluationStore } from './sample-store.js';
import { agentInScope, scopeNeedsAgentFacts } from './scope.js';

export const STATUS_DURABLE = 'alerting-agent-status';

/**
 * Agent status changes from the registry: an agent declared offline makes measurement-less absence
 * conditions hold at once (the registry already waited its heartbeat timeout); coming back clears
 * the mark. Rules with absence conditions are evaluated for the agent right away.
 */
@Injectable()
export class AgentStatusConsumer implements OnApplicationBootstrap {
  constructor(
    private readonly bus: EventBus,
    private readonly rules: RuleCache,
    private readonly evaluator: RuleEvaluator,
    private readonly alerts: AlertStateService,
    private readonly agents: AgentDirectory,
    private readonly store: EvaluationStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume({
      durable: STATUS_DURABLE,
      subjects: ['evt.registry.agent.status-changed.v1'],
      deliverNew: true,
      handler: (evt) => this.onStatusChanged(evt),
    });
  }

  async onStatusChanged(evt: AgentStatusChanged): Promise<void> {
    const at = Date.parse(evt.at);
    if (evt.to === 'offline') await this.store.setOffline(evt.agent_id, Number.isNaN(at) ? Date.now() : at);
    else await this.store.clearOffline([evt.agent_id]);
    this.agents.expire(evt.agent_id);

    const rules = (await this.rules.enabledRules()).filter((r) => r.absenceLeaves.length > 0);
    if (rules.length === 0) return;
    const open = await this.alerts.openAlertsOf([evt.agent_id]);
    const now = Date.now();
    for (const rule of rules) {
      if (!agentInScope({ agent_ids: rule.scope.agent_ids }, evt.agent_id)) continue;
      if (scopeNeedsAgentFacts(rule.scope) && !agentInScope(rule.scope, evt.agent_id, await this.agents.get(evt.agent_id))) continue;
      await this.store.addAbsenceAgent(rule.id, rule.revision, evt.agent_id);
      const groups = async () => (await this.agents.get(evt.agent_id).catch(() => ({ groups: [] as string[] }))).groups;
      await this.evaluator.checkNow(rule, evt.agent_id, open.get(pairKey(rule.id, evt.agent_id)) ?? null, now, groups);
    }
    this.logger.debug({ agent_id: evt.agent_id, to: evt.to }, 'agent status applied to absence rules');
  }
}
