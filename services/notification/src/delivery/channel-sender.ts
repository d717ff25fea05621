import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { createTransport } from 'nodemailer';
import { NOTIFICATION_CONFIG, type NotificationConfig } from '../config.js';
import type { DeliverableChannel, EmailDeliveryConfig } from '../channels/channel-config.js';
import type { AlertMessage } from './alert-message.js';
import { emailContent, slackPayload, teamsPayload, webhookPayload } from './channel-formats.js';
import { postJson } from './http-post.js';
import { SIGNATURE_HEADER, signBody } from './signature.js';

export interface SendResult {
  delivered: boolean;
  /** HTTP status, or the SMTP reply code for email */
  responseCode: number | null;
  error: string | null;
  durationMs: number;
}

const USER_AGENT = 'agentmon-notification/0.1';

/** Sends one message to one channel, once, within the delivery timeout. Never throws. */
@Injectable()
export class ChannelSender {
  constructor(@Inject(NOTIFICATION_CONFIG) private readonly config: NotificationConfig) {}

  async send(channel: DeliverableChannel, msg: AlertMessage): Promise<SendResult> {
    const started = performance.now();
    let result: Omit<SendResult, 'durationMs'>;
    try {
      result = await this.dispatch(channel, msg);
    } catch (err) {
      result = { delivered: false, responseCode: null, error: `unexpected error: ${(err as Error)?.name ?? 'Error'}` };
    }
    return { ...result, durationMs: Math.round(performance.now() - started) };
  }

  private async dispatch(channel: DeliverableChannel, msg: AlertMessage): Promise<Omit<SendResult, 'durationMs'>> {
    const timeout = this.config.DELIVERY_TIMEOUT_MS;
    switch (channel.type) {
      case 'webhook': {
        const body = JSON.stringify(webhookPayload(msg));
        const headers: Record<string, string> = {
          ...(channel.config.headers ?? {}),
          'User-Agent': USER_AGENT,
          'X-Agentmon-Event': msg.event,
          'X-Agentmon-Delivery': randomUUID(),
        };
        if (channel.config.secret) headers[SIGNATURE_HEADER] = signBody(body, channel.config.secret);
        return http(await postJson(channel.config.url, body, headers, timeout));
      }
      case 'slack':
        return http(await postJson(channel.config.webhook_url, JSON.stringify(slackPayload(msg)), { 'User-Agent': USER_AGENT }, timeout));
      case 'teams':
        return http(await postJson(channel.config.webhook_url, JSON.stringify(teamsPayload(msg)), { 'User-Agent': USER_AGENT }, timeout));
      case 'email':
        return this.sendEmail(channel.config, msg);
    }
  }

  private async sendEmail(config: EmailDeliveryConfig, msg: AlertMessage): Promise<Omit<SendResult, 'durationMs'>> {
    const smtpUrl = config.smtp_url ?? this.config.SMTP_URL;
    if (!smtpUrl) return { delivered: false, responseCode: null, error: 'no SMTP server: set SMTP_URL or the channel smtp_url' };
    const timeout = this.config.DELIVERY_TIMEOUT_MS;
    const transport = createTransport({
      url: smtpUrl,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      dnsTimeout: timeout,
    });
    const content = emailContent(msg);
    let timer: NodeJS.Timeout | undefined;
    try {
      const info = await Promise.race([
        transport.sendMail({ from: this.config.SMTP_FROM, to: config.to, subject: content.subject, text: content.text, html: content.html }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'AGENTMON_TIMEOUT' })), timeout);
        }),
      ]);
      const rejected = (info as { rejected?: unknown[] }).rejected ?? [];
      const code = smtpCode((info as { response?: unknown }).response);
      if (rejected.length > 0) return { delivered: false, responseCode: code, error: `${rejected.length} recipient(s) refused` };
      return { delivered: true, responseCode: code, error: null };
    } catch (err) {
      const e = err as { code?: string; responseCode?: number; response?: string; command?: string };
      if (e.code === 'AGENTMON_TIMEOUT') return { delivered: false, responseCode: null, error: `timed out after ${timeout} ms` };
      const reply = typeof e.response === 'string' ? `: ${e.response.replace(/[\r\n]+/g, ' ').slice(0, 200)}` : '';
      return {
        delivered: false,
        responseCode: typeof e.responseCode === 'number' ? e.responseCode : null,
        error: `SMTP ${e.command ? `${e.command} ` : ''}failed (${e.code ?? 'error'})${reply}`,
      };
    } finally {
      clearTimeout(timer);
      transport.close();
    }
  }
}

function http(r: { ok: boolean; status: number | null; error: string | null }): Omit<SendResult, 'durationMs'> {
  return { delivered: r.ok, responseCode: r.status, error: r.error };
}

function smtpCode(response: unknown): number | null {
  const m = typeof response === 'string' ? /^(\d{3})/.exec(response) : null;
  return m ? Number(m[1]) : null;
}
