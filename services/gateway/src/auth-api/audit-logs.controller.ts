import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuditLogSchema, AuditQuerySchema, pageOf, type Principal } from '@agentmon/contracts';
import { RpcClient } from '@agentmon/messaging';
import { ZQuery } from '@agentmon/http-kit';
import type { z } from 'zod';
import { Access, CurrentPrincipal } from '../access/access.decorator.js';
import { TimeRangeQueryShape, fromNotAfterTo } from '../http/schemas.js';
import { ApiDoc } from '../openapi/zod-openapi.js';

/** The audit query as a query string carries it: from/to as RFC 3339 or epoch ms. */
export const AuditHttpQuerySchema = AuditQuerySchema.extend(TimeRangeQueryShape).superRefine(fromNotAfterTo);

@ApiTags('audit')
@Controller('audit-logs')
export class AuditLogsController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get()
  @Access('admin')
  @ApiDoc({
    summary: 'The audit log: every change and every login attempt, newest first',
    query: AuditQuerySchema.extend(TimeRangeQueryShape),
    response: [200, 'AuditLogPage', pageOf(AuditLogSchema)],
  })
  list(@CurrentPrincipal() principal: Principal, @ZQuery(AuditHttpQuerySchema) query: z.output<typeof AuditHttpQuerySchema>) {
    return this.rpc.request('rpc.auth.audit.list.v1', { principal, query });
  }
}
