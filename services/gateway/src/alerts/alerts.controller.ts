import { Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AlertActiveQuerySchema, AlertListQuerySchema, AlertSchema, NotificationAttemptSchema, pageOf, type Principal } from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { ZParam, ZQuery } from '@agentmon/http-kit';
import { Access, CurrentPrincipal } from '../access/access.decorator.js';
import { ResourceIdSchema, TimeRangeQueryShape, fromNotAfterTo } from '../http/schemas.js';
import { ApiDoc } from '../openapi/zod-openapi.js';

/** Alert history as a query string carries it: from/to as RFC 3339 or epoch ms (bounds of started_at). */
const AlertListHttpQueryShape = AlertListQuerySchema.extend(TimeRangeQueryShape);
export const AlertListHttpQuerySchema = AlertListHttpQueryShape.superRefine(fromNotAfterTo);

const AttemptListSchema = z.object({ items: z.array(NotificationAttemptSchema), next_cursor: z.null() });

/** Routes under /alerts other than /alerts/rules (declared in AlertRulesController, registered first). */
@ApiTags('alerts')
@Controller('alerts')
export class AlertsController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get('active')
  @Access('read')
  @ApiDoc({
    summary: 'Open alerts (firing and pending), critical first',
    query: AlertActiveQuerySchema,
    response: [200, 'ActiveAlerts', z.object({ items: z.array(AlertSchema), next_cursor: z.null() })],
  })
  active(@ZQuery(AlertActiveQuerySchema) query: z.output<typeof AlertActiveQuerySchema>) {
    return this.rpc.request('rpc.alerting.alert.active.v1', query);
  }

  @Get()
  @Access('read')
  @ApiDoc({ summary: 'Alert history, newest first', query: AlertListHttpQueryShape, response: [200, 'AlertPage', pageOf(AlertSchema)] })
  list(@ZQuery(AlertListHttpQuerySchema) query: z.output<typeof AlertListHttpQuerySchema>) {
    return this.rpc.request('rpc.alerting.alert.list.v1', query);
  }

  @Get(':id')
  @Access('read')
  @ApiDoc({ summary: 'One alert', params: { id: ResourceIdSchema }, response: [200, 'Alert', AlertSchema] })
  get(@ZParam('id', ResourceIdSchema) id: string) {
    return this.rpc.request('rpc.alerting.alert.get.v1', { id });
  }

  @Post(':id/ack')
  @HttpCode(200)
  @Access('write')
  @ApiDoc({ summary: 'Acknowledge an alert (stops its escalation)', params: { id: ResourceIdSchema }, response: [200, 'Alert', AlertSchema] })
  ack(@CurrentPrincipal() principal: Principal, @ZParam('id', ResourceIdSchema) id: string) {
    return this.rpc.request('rpc.alerting.alert.ack.v1', { principal, id });
  }

  @Get(':id/notifications')
  @Access('read')
  @ApiDoc({ summary: 'Every delivery attempt of the alert’s notifications', params: { id: ResourceIdSchema }, response: [200, 'NotificationAttempts', AttemptListSchema] })
  notifications(@ZParam('id', ResourceIdSchema) id: string) {
    return this.rpc.request('rpc.notification.alert.attempts.v1', { alert_id: id });
  }
}
