import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { EventBus } from '@agentmon/messaging';
import { LOGGER } from '../logger.token.js';
import { AlertRuleEntity } from '../rules/alert-rule.entity.js';
import { AlertingMetrics } from '../metrics/alerting-metrics.js';
import { AlertInstanceEntity } from './alert-instance.entity.js';
import { firedSnapshot, toAlertDto } from './alert-mapper.js';

/**
 * Publishes alert events from the alert_instances outbox columns. The state change is committed
 * first; the event then goes to JetStream with msgId `${alert_id}:${status}`, so a retry inside the
 * stream's duplicate window is stored once; fired_published_at / resolved_published_at record
 * success, and the tick re-publishes what is still unrecorded.
 */
@Injectable()
export class AlertEventPublisher {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly bus: EventBus,
    private readonly metrics: AlertingMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Publishes every event of this alert that is not published yet. Never throws. */
  async publishPending(alertId: string): Promise<void> {
    try {
      const alerts = this.ds.getRepository(AlertInstanceEntity);
      const alert = await alerts.findOneBy({ id: alertId });
      if (!alert || !alert.firedAt) return;
      const rule = await this.ds.getRepository(AlertRuleEntity).findOneBy({ id: alert.ruleId });
      const ruleRef = {
        id: alert.ruleId,
        name: rule?.name ?? alert.ruleName,
        channels: rule?.channels ?? [],
        condition: rule?.condition ?? null,
      };
      if (!alert.firedPublishedAt) {
        await this.bus.publish('evt.alerting.alert.fired.v1', { alert: firedSnapshot(alert), rule: ruleRef }, { msgId: `${alert.id}:firing` });
        await alerts
          .createQueryBuilder()
          .update()
          .set({ firedPublishedAt: new Date() })
          .where('id = :id AND fired_published_at IS NULL', { id: alert.id })
          .execute();
        this.metrics.eventsPublished.inc({ event: 'fired' });
      }
      if (alert.status === 'resolved' && !alert.resolvedPublishedAt) {
        await this.bus.publish('evt.alerting.alert.resolved.v1', { alert: toAlertDto(alert), rule: ruleRef }, { msgId: `${alert.id}:resolved` });
        await alerts
          .createQueryBuilder()
          .update()
          .set({ resolvedPublishedAt: new Date() })
          .where('id = :id AND resolved_published_at IS NULL', { id: alert.id })
          .execute();
        this.metrics.eventsPublished.inc({ event: 'resolved' });
      }
    } catch (err) {
      this.metrics.publishFailures.inc();
      this.logger.warn({ err, alert_id: alertId }, 'alert event not published yet; the tick will retry');
    }
  }

  /** Re-publishes events whose first attempt failed (rows untouched for graceMs). */
  async sweep(graceMs = 2_000, batch = 200): Promise<number> {
    const rows: { id: string }[] = await this.ds.query(
      `SELECT id FROM alert_instances
        WHERE fired_at IS NOT NULL
          AND (fired_published_at IS NULL OR (status = 'resolved' AND resolved_published_at IS NULL))
          AND updated_at < $1
        ORDER BY updated_at
        LIMIT $2`,
      [new Date(Date.now() - graceMs), batch],
    );
    for (const row of rows) await this.publishPending(row.id);
    return rows.length;
  }
}
