import { Inject, Injectable, type OnApplicationBootstrap, type Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { Logger } from 'pino';
import { LOGGER } from '../logger.token.js';
import { routesOf, type RouteAccess } from './route-inventory.js';

/**
 * At start, walks every controller Nest registered and refuses to start when a route declares no
 * access (the guard would refuse it anyway; this makes the mistake loud).
 */
@Injectable()
export class RouteAccessAudit implements OnApplicationBootstrap {
  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  routes(): RouteAccess[] {
    const controllers = this.discovery
      .getControllers()
      .map((w) => w.metatype)
      .filter((m): m is Type => typeof m === 'function');
    return routesOf(controllers);
  }

  onApplicationBootstrap(): void {
    const undeclared = this.routes().filter((r) => !r.access);
    if (undeclared.length > 0) {
      const list = undeclared.map((r) => `${r.method} ${r.path} (${r.controller}.${r.handler})`);
      this.logger.fatal({ routes: list }, 'routes without an access declaration');
      throw new Error(`routes without an @Access declaration: ${list.join(', ')}`);
    }
  }
}
