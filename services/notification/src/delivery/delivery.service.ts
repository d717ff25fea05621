import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AlertEvent, ChannelTestResult, ChannelType, NotificationEvent, Principal } from '@agentmon/contracts';
import { NOTIFICATION_CONFIG, type NotificationConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { ChannelsService, type OpenedChannel } from '../channels/channels.service.js';
import { AuditPublisher } from '../audit/audit.publisher.js';
import { AttemptsRepository } from './attempts.repository.js';
import { ChannelSender, type SendResult } from './channel-sender.js';
import { buildAlertMessage, testAlertEvent, type AlertMessage } from './alert-message.js';
import { DELIVERY_METRICS, type DeliveryMetrics } from './delivery.metrics.js';

export interface DeliveryOutcome {
  /** channels that still need another attempt */
  pending: string[];
  delivered: number;
  gaveUp: number;
  unknown: number;
}

/**
 * Delivers alert events to channels and records every attempt. Progress is kept per (alert,
 * event, channel) in alert_notifications, so a retry goes only to the channels that have not had
 * the notification yet, on whichever replica the retry lands.
 */
@Injectable()
export class DeliveryService {
  constructor(
    @Inject(ChannelsService) private readonly channels: ChannelsService,
    @Inject(ChannelSender) private readonly sender: ChannelSender,
    @Inject(AttemptsRepository) private readonly attempts: AttemptsRepository,
    @Inject(AuditPublisher) private readonly audit: AuditPublisher,
    @Inject(NOTIFICATION_CONFIG) private readonly config: NotificationConfig,
    @Inject(DELIVERY_METRICS) private readonly metrics: DeliveryMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async deliverAlertEvent(event: AlertEvent, kind: 'firing' | 'resolved'): Promise<DeliveryOutcome> {
    const { alert, rule } = event;
    const wanted = [...new Set(rule.channels)];
    const outcome: DeliveryOutcome = { pending: [], delivered: 0, gaveUp: 0, unknown: 0 };
    if (wanted.length === 0) return outcome;

    const opened = await this.channels.deliverable(wanted);
    const found = new Set(opened.map((c) => (c.usable ? c.channel.id : c.id)));
    const unknown = wanted.filter((id) => !found.has(id));
    if (unknown.length > 0) {
      outcome.unknown = unknown.length;
      this.metrics.unknownChannels.inc(unknown.length);
      this.logger.warn({ alert_id: alert.id, rule_id: rule.id, channel_ids: unknown }, 'alert names channels that do not exist; skipped');
    }
    const progress = await this.attempts.progress(alert.id, kind, [...found]);
    const message = buildAlertMessage(event, kind, this.config.DASHBOARD_URL);

    await Promise.all(
      opened.map(async (c) => {
        const id = c.usable ? c.channel.id : c.id;
        const p = progress.get(id) ?? { attempts: 0, delivered: false };
        if (p.delivered) return void outcome.delivered++;
        if (p.attempts >= this.config.MAX_ATTEMPTS) return void outcome.gaveUp++;
        const attempt = p.attempts + 1;
        const result = await this.attemptOnce(c, message);
        const final = !result.delivered && attempt >= this.config.MAX_ATTEMPTS;
        await this.attempts.record({
          alertId: alert.id,
          ruleId: rule.id,
          channelId: id,
          channelType: c.usable ? c.channel.type : c.type,
          event: kind,
          attempt,
          delivered: result.delivered,
          responseCode: result.responseCode,
          error: result.error,
          final,
          durationMs: result.durationMs,
        });
        this.observe(c.usable ? c.channel.type : c.type, kind, result);
        const log = { alert_id: alert.id, channel_id: id, event: kind, attempt, response_code: result.responseCode, error: result.error };
        if (result.delivered) {
          outcome.delivered++;
          this.logger.info(log, 'notification delivered');
        } else if (final) {
          outcome.gaveUp++;
          this.metrics.gaveUp.inc({ channel_type: c.usable ? c.channel.type : c.type });
          this.logger.error({ ...log, max_attempts: this.config.MAX_ATTEMPTS }, 'notification abandoned after the last attempt');
        } else {
          outcome.pending.push(id);
          this.logger.warn(log, 'notification attempt failed; will retry');
        }
      }),
    );
    return outcome;
  }

  /** One test notification, no retries; recorded as an attempt with event `test`. */
  async sendTest(principal: Principal, channelId: string): Promise<ChannelTestResult> {
    const c = await this.channels.deliverableOne(channelId);
    const name = c.usable ? c.channel.name : c.name;
    const type = c.usable ? c.channel.type : c.type;
    const event = testAlertEvent(name);
    const result = await this.attemptOnce(c, buildAlertMessage(event, 'test', this.config.DASHBOARD_URL));
    await this.attempts.record({
      alertId: event.alert.id,
      ruleId: null,
      channelId,
      channelType: type,
      event: 'test',
      attempt: 1,
      delivered: result.delivered,
      responseCode: result.responseCode,
      error: result.error,
      final: !result.delivered,
      durationMs: result.durationMs,
    });
    this.observe(type, 'test', result);
    this.logger.info({ channel_id: channelId, delivered: result.delivered, response_code: result.responseCode }, 'test notification sent');
    // the test was sent either way; an audit outage must not turn its answer into an error
    await this.audit
      .record({
        principal,
        action: 'notification_channel.test',
        resourceId: channelId,
        outcome: result.delivered ? 'success' : 'failure',
        after: { delivered: result.delivered, response_code: result.responseCode },
      })
      .catch(() => undefined);
    return { delivered: result.delivered, response_code: result.responseCode, error: result.error };
  }

  private async attemptOnce(c: OpenedChannel, message: AlertMessage): Promise<SendResult> {
    if (!c.usable) return { delivered: false, responseCode: null, error: c.reason, durationMs: 0 };
    return this.sender.send(c.channel, message);
  }

  private observe(type: ChannelType, event: NotificationEvent, result: SendResult) {
    this.metrics.attempts.inc({ channel_type: type, event, status: result.delivered ? 'delivered' : 'failed' });
    this.metrics.duration.observe({ channel_type: type }, result.durationMs / 1000);
  }
}
