import { Module } from '@nestjs/common';
import { RevocationPublisher } from './revocation-publisher.service.js';

/** Announcing revoked sessions, API keys and users to every replica that caches them. */
@Module({
  providers: [RevocationPublisher],
  exports: [RevocationPublisher],
})
export class RevocationsModule {}
