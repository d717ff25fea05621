import { z } from 'zod';
import { PrincipalSchema, pageOf, PageQuerySchema, OkSchema } from './common.js';

const url = z.url({ protocol: /^https?$/ });
export const WebhookConfigSchema = z.object({
  url,
  secret: z.string().min(1).max(1024).optional(),
  headers: z.record(z.string(), z.string()).optional(),
});
export const SlackConfigSchema = z.object({ webhook_url: url });
export const TeamsConfigSchema = z.object({ webhook_url: url });
export const EmailConfigSchema = z.object({ to: z.array(z.email()).min(1).max(50), smtp_url: z.url({ protocol: /^smtps?$/ }).optional() });

export const ChannelInputSchema = z.discriminatedUnion('type', [
  z.object({ name: z.string().min(1).max(256), type: z.literal('webhook'), config: WebhookConfigSchema }),
  z.object({ name: z.string().min(1).max(256), type: z.literal('slack'), config: SlackConfigSchema }),
  z.object({ name: z.string().min(1).max(256), type: z.literal('teams'), config: TeamsConfigSchema }),
  z.object({ name: z.string().min(1).max(256), type: z.literal('email'), config: EmailConfigSchema }),
]);
export type ChannelInput = z.infer<typeof ChannelInputSchema>;

/** A channel as the API shows it: secrets never leave the notification service. */
export const ChannelSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(['webhook', 'slack', 'teams', 'email']),
  /** config with every secret replaced by `has_<name>: true` */
  config: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Channel = z.infer<typeof ChannelSchema>;

export const NotificationAttemptSchema = z.object({
  id: z.string(),
  alert_id: z.string(),
  channel_id: z.string(),
  event: z.enum(['firing', 'resolved', 'test']),
  attempt: z.number().int(),
  status: z.enum(['delivered', 'failed']),
  response_code: z.number().int().nullable(),
  error: z.string().nullable(),
  created_at: z.string(),
});

export const notificationRpc = {
  'rpc.notification.channel.create.v1': { request: z.object({ principal: PrincipalSchema, channel: ChannelInputSchema }), response: ChannelSchema },
  'rpc.notification.channel.list.v1': { request: PageQuerySchema, response: pageOf(ChannelSchema) },
  'rpc.notification.channel.get.v1': { request: z.object({ id: z.string() }), response: ChannelSchema },
  'rpc.notification.channel.update.v1': {
    request: z.object({ principal: PrincipalSchema, id: z.string(), channel: ChannelInputSchema }),
    response: ChannelSchema,
  },
  'rpc.notification.channel.delete.v1': { request: z.object({ principal: PrincipalSchema, id: z.string() }), response: OkSchema },
  'rpc.notification.channel.test.v1': {
    request: z.object({ principal: PrincipalSchema, id: z.string() }),
    response: z.object({ delivered: z.boolean(), response_code: z.number().int().nullable(), error: z.string().nullable() }),
  },
  'rpc.notification.alert.attempts.v1': {
    request: z.object({ alert_id: z.string() }),
    response: z.object({ items: z.array(NotificationAttemptSchema), next_cursor: z.null() }),
  },
} as const;
