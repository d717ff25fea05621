import { Module } from '@nestjs/common';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiKeyVerifier } from './api-key.verifier.js';
import { RevocationListener } from './revocation.listener.js';

/** API key authentication of the ingest port, shared by the push and the agent routes. */
@Module({
  providers: [ApiKeyVerifier, ApiKeyGuard, RevocationListener],
  exports: [ApiKeyVerifier, ApiKeyGuard],
})
export class AuthModule {}
