import { SetMetadata, applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AppError, type Principal } from '@agentmon/contracts';
import type { AccessLevel } from './permissions.js';

export const ACCESS_METADATA = 'agentmon:access';
export const OPENAPI_BEARER = 'bearer';
export const OPENAPI_API_KEY = 'api_key';

/**
 * Declares who may call a route (on a handler, or on a controller for all its handlers). The global
 * AccessGuard refuses every route without one, and a test fails when one is missing.
 */
export function Access(level: AccessLevel) {
  const decorators: (ClassDecorator | MethodDecorator)[] = [SetMetadata(ACCESS_METADATA, level)];
  if (level !== 'public') {
    decorators.push(
      ApiBearerAuth(OPENAPI_BEARER),
      ApiSecurity(OPENAPI_API_KEY),
      ApiUnauthorizedResponse({ description: 'no valid credentials' }),
    );
    decorators.push(
      ApiForbiddenResponse({
        description:
          level === 'authenticated'
            ? 'an ingest-only API key (it is for the ingest port)'
            : level === 'user'
              ? 'an API key (this route is for a login session)'
              : `the credentials lack the '${level}' permission`,
      }),
    );
  }
  return applyDecorators(...decorators);
}

export interface AuthenticatedRequest {
  principal?: Principal;
}

/** The authenticated principal of the request (only on routes that are not public). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!req.principal) throw new AppError('unauthorized', 'authentication required');
  return req.principal;
});
