import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../logger.token.js';
import { REGISTRY_CONFIG, type RegistryConfig } from '../config.js';
import { AgentsService } from './agents.service.js';

/** Periodically marks agents offline whose heartbeats stopped. */
@Injectable()
export class OfflineSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly agents: AgentsService,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.agents.markOffline().then(
        (n) => n && this.logger.info({ agents: n }, 'agents went offline'),
        (err) => this.logger.warn({ err }, 'offline sweep failed'),
      );
    }, this.config.OFFLINE_SWEEP_INTERVAL_MS);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
