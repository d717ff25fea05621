import { Module } from '@nestjs/common';
import { SessionsService } from './sessions.service.js';

/** Refresh-token families (login sessions). Knows nothing of users, so users and auth can both use it. */
@Module({
  providers: [SessionsService],
  exports: [SessionsService],
})
export class SessionsModule {}
