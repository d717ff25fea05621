import { z } from 'zod';
import { PrincipalSchema, pageOf, PageQuerySchema, OkSchema } from './common.js';

const url = z.url({ protocol: /^https?$/ });

/** Headers the notification service sets itself; a channel may not override them. */
export const RESERVED_WEBHOOK_HEADERS = [
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'x-agentmon-signature',
  'x-agentmon-event',
  'x-agentmon-delivery',
] as const;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
const WebhookHeadersSchema = z
  .record(
    z
      .string()
      .regex(HEADER_NAME, 'must be an HTTP header name (letters, digits and !#$%&\'*+.^_`|~-)')
      .refine((h) => !(RESERVED_WEBHOOK_HEADERS as readonly string[]).includes(h.toLowerCase()), 'is set by agentmon and cannot be overridden'),
    z.string().max(4096).regex(/^[^\r\n\0]*$/, 'must not contain line breaks'),
  )
  .refine((h) => Object.keys(h).length <= 50, 'at most 50 headers');

export const WebhookConfigSchema = z.object({
  url,
  /** HMAC-SHA256 key for `X-Agentmon-Signature`; stored encrypted, never returned */
  secret: z.string().min(1).max(1024).optional(),
  /** extra request headers; their values are stored encrypted and never returned (only their names) */
  headers: WebhookHeadersSchema.optional(),
});
export const SlackConfigSchema = z.object({ webhook_url: url });
export const TeamsConfigSchema = z.object({ webhook_url: url });
export const EmailConfigSchema = z.object({ to: z.array(z.email()).min(1).max(50), smtp_url: z.url({ protocol: /^smtps?$/ }).optional() });

export const ChannelTypeSchema = z.enum(['webhook', 'slack', 'teams', 'email']);
export type ChannelType = z.infer<typeof ChannelTypeSchema>;

/**
 * What a client sends to create or replace a channel. An update replaces the whole channel, secrets
 * included: a secret left out of an update is removed.
 */
export const ChannelInputSchema = z.discriminatedUnion('type', [
  z.object({ name: z.string().min(1).max(256), type: z.literal('webhook'), config: WebhookConfigSchema }),
  z.object({ name: z.string().min(1).max(256), type: z.literal('slack'), config: SlackConfigSchema }),
  z.object({ name: z.string().min(1).max(256), type: z.literal('teams'), config: TeamsConfigSchema }),
  z.object({ name: z.string().min(1).max(256), type: z.literal('email'), config: EmailConfigSchema }),
]);
export type ChannelInput = z.infer<typeof ChannelInputSchema>;

/**
 * A channel as the API shows it: secrets never leave the notification service.
 * `config` by type (every secret replaced by `has_<name>`):
 * - webhook `{url, has_secret, header_names}` (credentials in the URL, if any, shown as `***`)
 * - slack, teams `{has_webhook_url: true, webhook_url_masked: "https://hooks.slack.com/***"}`
 * - email `{to, has_smtp_url, smtp_url_masked?: "smtps://mail.example.com:465"}`
 */
export const ChannelSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: ChannelTypeSchema,
  config: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Channel = z.infer<typeof ChannelSchema>;

export const NotificationEventSchema = z.enum(['firing', 'resolved', 'test']);
export type NotificationEvent = z.infer<typeof NotificationEventSchema>;

/** One delivery attempt of one alert event to one channel. */
export const NotificationAttemptSchema = z.object({
  id: z.string(),
  alert_id: z.string(),
  channel_id: z.string(),
  event: NotificationEventSchema,
  attempt: z.number().int(),
  status: z.enum(['delivered', 'failed']),
  response_code: z.number().int().nullable(),
  error: z.string().nullable(),
  created_at: z.string(),
  /** type of the channel at the time of the attempt */
  channel_type: ChannelTypeSchema.optional(),
  /** true on the failed attempt after which the service gave up on this channel */
  final: z.boolean().optional(),
  duration_ms: z.number().int().nullable().optional(),
});
export type NotificationAttempt = z.infer<typeof NotificationAttemptSchema>;

export const ChannelTestResultSchema = z.object({
  delivered: z.boolean(),
  response_code: z.number().int().nullable(),
  error: z.string().nullable(),
});
export type ChannelTestResult = z.infer<typeof ChannelTestResultSchema>;

export const notificationRpc = {
  'rpc.notification.channel.create.v1': { request: z.object({ principal: PrincipalSchema, channel: ChannelInputSchema }), response: ChannelSchema },
  'rpc.notification.channel.list.v1': { request: PageQuerySchema, response: pageOf(ChannelSchema) },
  'rpc.notification.channel.get.v1': { request: z.object({ id: z.string() }), response: ChannelSchema },
  'rpc.notification.channel.update.v1': {
    request: z.object({ principal: PrincipalSchema, id: z.string(), channel: ChannelInputSchema }),
    response: ChannelSchema,
  },
  'rpc.notification.channel.delete.v1': { request: z.object({ principal: PrincipalSchema, id: z.string() }), response: OkSchema },
  /** Sends one test notification (no retries; can take up to the delivery timeout, so call with a longer RPC timeout). */
  'rpc.notification.channel.test.v1': {
    request: z.object({ principal: PrincipalSchema, id: z.string() }),
    response: ChannelTestResultSchema,
  },
  'rpc.notification.alert.attempts.v1': {
    request: z.object({ alert_id: z.string() }),
    response: z.object({ items: z.array(NotificationAttemptSchema), next_cursor: z.null() }),
  },
} as const;
