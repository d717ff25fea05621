import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Express, Request, Response } from 'express';
import { AppError } from '@agentmon/contracts';
import { toErrorBody } from '@agentmon/http-kit';
import { currentRequestId } from '@agentmon/observability';

/**
 * Nest answers unknown paths under the global prefix (/api/v2) with the contract's JSON 404; this
 * adds the same answer for every other unknown path (say /api/v1/x or /nowhere), where Express would
 * answer an HTML page. Registered after Nest's routes and handlers, so it only sees what nothing else took.
 */
@Injectable()
export class JsonNotFound implements OnApplicationBootstrap {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  onApplicationBootstrap(): void {
    const app = this.adapterHost.httpAdapter.getInstance<Express>();
    app.use((req: Request, res: Response) => {
      const { body } = toErrorBody(new AppError('not_found', `Cannot ${req.method} ${req.path}`), currentRequestId());
      res.status(404).json(body);
    });
  }
}
