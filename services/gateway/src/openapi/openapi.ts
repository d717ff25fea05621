import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { OPENAPI_API_KEY, OPENAPI_BEARER } from '../access/access.decorator.js';
import { openApiComponents } from './zod-openapi.js';

export const DOCS_PATH = 'api/docs';

const DESCRIPTION = `The public REST API of agentmon. Every route needs credentials unless marked otherwise:
\`Authorization: Bearer <access token>\` (from POST /api/v2/auth/login), or an API key as \`Authorization: Bearer amk_...\` or \`X-API-Key: amk_...\`.

Errors are \`{statusCode, error, message, details?, request_id}\`; \`details\` names each bad field.
Lists answer \`{items, next_cursor}\` and take \`limit\` and \`cursor\`. Times are RFC 3339 in answers, RFC 3339 or epoch ms in requests.

**Real time**: socket.io at path \`/ws/dashboard\` with \`auth: {token}\` (access token or API key with \`read\`).
Client events \`subscribe {agent_ids}\`, \`unsubscribe {agent_ids}\` (acknowledged with \`{ok, agent_ids}\` or \`{ok: false, error}\`).
Server events \`new_metrics_data {agent_id, measurement, fields, tags, time}\` (subscribed agents), \`agent_status_changed {agent_id, from, to, at}\`,
\`alert_triggered {alert}\`, \`alert_resolved {alert}\`, \`system_health_update {status, services}\`, \`session_expired {message}\` (then the socket closes; reconnect with a fresh token).`;

/**
 * OpenAPI at /api/docs (Swagger UI, its assets served from the installed swagger-ui-dist package)
 * and /api/docs-json. The schemas come from the same zod schemas that validate the requests.
 */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('agentmon API')
    .setDescription(DESCRIPTION)
    .setVersion('2')
    .setOpenAPIVersion('3.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT or amk_ API key' }, OPENAPI_BEARER)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, OPENAPI_API_KEY)
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = { ...document.components, schemas: { ...(document.components?.schemas ?? {}), ...openApiComponents() } as never };
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: `${DOCS_PATH}-json`,
    raw: ['json'],
    customSiteTitle: 'agentmon API',
    // no calls to the public validator service: nothing leaves the browser but calls to this gateway
    swaggerOptions: { validatorUrl: null, persistAuthorization: false },
  });
}
