import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';

type JsonSchema = Record<string, unknown>;

/** Named schemas collected from route decorators; merged into the document's components. */
const components = new Map<string, JsonSchema>();

export function openApiComponents(): Record<string, JsonSchema> {
  return Object.fromEntries(components);
}

/**
 * A zod schema as JSON Schema (draft 2020-12, which OpenAPI 3.1 uses). Recursive parts ($defs) are
 * moved to the document's components so that references resolve from the document root.
 */
export function jsonSchemaOf(schema: z.ZodType, name: string, io: 'input' | 'output' = 'input'): JsonSchema {
  let out: JsonSchema;
  try {
    out = z.toJSONSchema(schema, { io, unrepresentable: 'any', cycles: 'ref', reused: 'inline' }) as JsonSchema;
  } catch {
    return { type: 'object', description: 'see the API description' };
  }
  const { $schema: _ignored, $defs, ...rest } = out as JsonSchema & { $defs?: Record<string, JsonSchema> };
  const renames = new Map<string, string>();
  for (const key of Object.keys($defs ?? {})) renames.set(`#/$defs/${key}`, `#/components/schemas/${name}_${key.replace(/[^A-Za-z0-9_]/g, '')}`);
  const rewrite = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v).map(([k, val]) => [k, k === '$ref' && typeof val === 'string' && renames.has(val) ? renames.get(val) : rewrite(val)]),
      );
    }
    return v;
  };
  for (const [key, def] of Object.entries($defs ?? {})) {
    components.set(renames.get(`#/$defs/${key}`)!.replace('#/components/schemas/', ''), rewrite(def) as JsonSchema);
  }
  return rewrite(rest) as JsonSchema;
}

/** Registers a named schema and answers a reference to it. */
export function schemaRef(name: string, schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  if (!components.has(name)) components.set(name, jsonSchemaOf(schema, name, io));
  return { $ref: `#/components/schemas/${name}` };
}

export interface ApiDocOptions {
  summary: string;
  description?: string;
  params?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  body?: [name: string, schema: z.ZodType];
  /** status and a named schema of the answer; no schema for 204 */
  response: [status: number, name?: string, schema?: z.ZodType];
}

/** OpenAPI description of a route from the same zod schemas that validate it. */
export function ApiDoc(opts: ApiDocOptions) {
  const decorators: (ClassDecorator | MethodDecorator | PropertyDecorator)[] = [
    ApiOperation({ summary: opts.summary, ...(opts.description ? { description: opts.description } : {}) }),
  ];
  for (const [name, schema] of Object.entries(opts.params ?? {})) {
    decorators.push(ApiParam({ name, required: true, schema: jsonSchemaOf(schema, name) as never }));
  }
  if (opts.query) {
    const js = jsonSchemaOf(opts.query, 'query') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, prop] of Object.entries(js.properties ?? {})) {
      decorators.push(ApiQuery({ name, required: (js.required ?? []).includes(name) && !('default' in prop), schema: prop as never }));
    }
  }
  if (opts.body) decorators.push(ApiBody({ schema: schemaRef(opts.body[0], opts.body[1]) as never }));
  const [status, name, schema] = opts.response;
  decorators.push(
    ApiResponse({
      status,
      description: status === 204 ? 'done; no content' : 'success',
      ...(name && schema ? { schema: schemaRef(name, schema, 'output') as never } : {}),
    }),
  );
  if (opts.params || opts.query || opts.body) {
    decorators.push(ApiResponse({ status: 400, description: 'a path parameter, query parameter or body field is not valid (`details` names it)' }));
  }
  return applyDecorators(...decorators);
}
