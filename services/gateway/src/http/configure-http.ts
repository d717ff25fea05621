import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { RATE_LIMIT_EXPOSED_HEADERS } from '@agentmon/http-kit';
import type { GatewayConfig } from '../config.js';
import { setupOpenApi } from '../openapi/openapi.js';
import { securityHeaders } from './security-headers.middleware.js';

export const API_PREFIX = 'api/v2';

/**
 * Everything about the HTTP surface that is not a route: proxy trust, security headers, CORS,
 * the JSON body limit, the /api/v2 prefix and the OpenAPI document (request metrics come from
 * bootstrapService).
 */
export function configureHttp(nest: INestApplication, config: GatewayConfig): void {
  const app = nest as NestExpressApplication;
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  app.use(securityHeaders);
  app.enableCors({
    origin: config.CORS_ORIGINS.length > 0 ? config.CORS_ORIGINS : false,
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-API-Key', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'WWW-Authenticate', ...RATE_LIMIT_EXPOSED_HEADERS],
    maxAge: 600,
  });
  app.useBodyParser('json', { limit: config.BODY_LIMIT });
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health/live', 'health/ready', 'metrics'] });
  setupOpenApi(app);
}
