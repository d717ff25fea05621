import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { AUTH_CONFIG, type AuthConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { SigningKeyService } from './signing-key.service.js';

@Module({
  providers: [
    {
      // an async factory: the key exists and is decrypted before the service answers any request,
      // and a wrong AUTH_ENCRYPTION_KEY stops the start with a clear message
      provide: SigningKeyService,
      inject: [getDataSourceToken(), AUTH_CONFIG, LOGGER],
      useFactory: async (ds: DataSource, config: AuthConfig, logger: Logger) => {
        const service = new SigningKeyService(ds, config, logger);
        await service.start();
        return service;
      },
    },
  ],
  exports: [SigningKeyService],
})
export class SigningKeysModule {}
