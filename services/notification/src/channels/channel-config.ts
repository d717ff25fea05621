import { ChannelInputSchema, type ChannelInput, type ChannelType } from '@agentmon/contracts';

export type DeliveryConfig = ChannelInput['config'];
export type WebhookDeliveryConfig = Extract<ChannelInput, { type: 'webhook' }>['config'];
export type EmailDeliveryConfig = Extract<ChannelInput, { type: 'email' }>['config'];
export type HookDeliveryConfig = Extract<ChannelInput, { type: 'slack' | 'teams' }>['config'];

/** A channel with its delivery config decrypted: lives in memory only, never logged or answered. */
export type DeliverableChannel =
  | { id: string; name: string; type: 'webhook'; config: WebhookDeliveryConfig }
  | { id: string; name: string; type: 'slack' | 'teams'; config: HookDeliveryConfig }
  | { id: string; name: string; type: 'email'; config: EmailDeliveryConfig };

/** Associated data that binds a sealed config to its channel row. */
export function channelAad(id: string): string {
  return `notification_channel:${id}`;
}

/** `https://hooks.slack.com/***`: where a secret URL points, without its secret part. */
export function maskUrl(raw: string): string {
  const u = new URL(raw);
  return `${u.protocol}//${u.host}/***`;
}

/** A URL with any user:password replaced by `***`, for showing a webhook URL. */
export function withoutCredentials(raw: string): string {
  const u = new URL(raw);
  if (!u.username && !u.password) return raw;
  u.username = '***';
  u.password = '';
  return u.toString();
}

/** `smtps://mail.example.com:465` (no user, password or options). */
function smtpHost(raw: string): string {
  const u = new URL(raw);
  return `${u.protocol}//${u.host}`;
}

/**
 * The part of a channel's config that may be shown: each secret replaced by `has_<name>`, secret
 * URLs masked to scheme and host, header values dropped (they often carry tokens).
 */
export function publicConfig(input: ChannelInput): Record<string, unknown> {
  switch (input.type) {
    case 'webhook':
      return {
        url: withoutCredentials(input.config.url),
        has_secret: input.config.secret !== undefined,
        header_names: Object.keys(input.config.headers ?? {}),
      };
    case 'slack':
    case 'teams':
      return { has_webhook_url: true, webhook_url_masked: maskUrl(input.config.webhook_url) };
    case 'email':
      return {
        to: [...input.config.to],
        has_smtp_url: input.config.smtp_url !== undefined,
        ...(input.config.smtp_url ? { smtp_url_masked: smtpHost(input.config.smtp_url) } : {}),
      };
  }
}

/** Re-checks a decrypted config against the contract before it is used to send anything. */
export function parseDeliveryConfig(id: string, name: string, type: ChannelType, config: unknown): DeliverableChannel {
  const parsed = ChannelInputSchema.parse({ name, type, config });
  return { id, ...parsed } as DeliverableChannel;
}
