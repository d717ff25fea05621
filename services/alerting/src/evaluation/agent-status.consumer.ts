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
 *
 * The changes are taken in batches (up to 256, gathered for at most 50 ms): a fleet that comes
 * online at once (a cluster restarted) is one change per agent, and taken one by one each cost two
 * Redis round trips and an acknowledgement of its own — on the eleventh machine of docs/benchmarks.md
 * (item 44) a quarter of a core while 1,000 new agents a second registered. A batch costs one Redis
 * command for its offline marks, one for its returns, and one socket write of acknowledgements.
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
    await this.bus.consumeBatches({
      durable: STATUS_DURABLE,
      subjects: ['evt.registry.agent.status-changed.v1'],
      deliverNew: true,
      maxBatch: 256,
      maxWaitMs: 50,
      handler: (items) => this.onStatusChanges(items.map((item) => item.payload)),
    });
  }

  /**
   * Status changes in stream order. Each agent ends up as its last change in the batch says (an
   * offline mark set or cleared), and the absence rules are evaluated once per agent, on that state.
   */
  async onStatusChanges(changes: readonly AgentStatusChanged[]): Promise<void> {
    const last = new Map<string, AgentStatusChanged>();
    for (const change of changes) last.set(change.agent_id, change);
    const offlineSince = new Map<string, number>();
    const back: string[] = [];
    for (const [agentId, change] of last) {
      if (change.to === 'offline') {
        const at = Date.parse(change.at);
        offlineSince.set(agentId, Number.isNaN(at) ? Date.now() : at);
      } else back.push(agentId);
      this.agents.expire(agentId);
    }
    await Promise.all([this.store.setOffline(offlineSince), this.store.clearOffline(back)]);

    const rules = (await this.rules.enabledRules()).filter((r) => r.absenceLeaves.length > 0);
    if (rules.length === 0) return;
    const open = await this.alerts.openAlertsOf([...last.keys()]);
    const now = Date.now();
    for (const [agentId, change] of last) {
      for (const rule of rules) {
        if (!agentInScope({ agent_ids: rule.scope.agent_ids }, agentId)) continue;
        if (scopeNeedsAgentFacts(rule.scope) && !agentInScope(rule.scope, agentId, await this.agents.get(agentId))) continue;
        await this.store.addAbsenceAgent(rule.id, rule.revision, agentId);
        const groups = async () => (await this.agents.get(agentId).catch(() => ({ groups: [] as string[] }))).groups;
        await this.evaluator.checkNow(rule, agentId, open.get(pairKey(rule.id, agentId)) ?? null, now, groups);
      }
      this.logger.debug({ agent_id: agentId, to: change.to }, 'agent status applied to absence rules');
    }
  }
}
