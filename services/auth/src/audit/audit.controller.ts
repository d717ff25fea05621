import { Controller, Inject } from '@nestjs/common';
import { RpcHandler } from '@agentmon/messaging';
import type { RpcParsedRequest } from '@agentmon/contracts';
import { requireAdmin } from '../principal.js';
import { AuditLogStore } from './audit-log.store.js';

@Controller()
export class AuditController {
  constructor(@Inject(AuditLogStore) private readonly store: AuditLogStore) {}

  @RpcHandler('rpc.auth.audit.list.v1')
  async list(req: RpcParsedRequest<'rpc.auth.audit.list.v1'>) {
    requireAdmin(req.principal, 'reading the audit log');
    return this.store.list(req.query);
  }
}
