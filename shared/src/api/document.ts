import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig } from '@asteasolutions/zod-to-openapi';
import type { z } from 'zod';
import './components';
import { ERROR_STATUSES, ErrorBody, type ErrorStatus } from './error-body';
import type { ApiDescription, ApiMedia, ApiResponse, ApiRoute } from './route';

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

/** `/v1/users/:id/profile` → `/v1/users/{id}/profile`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** `get /v1/users/:id/profile` → `getV1UsersByIdProfile`: stable, unique per method and path. */
export function operationId(route: Pick<ApiRoute, 'method' | 'path'>): string {
  const words = route.path
    .split(/[/.]/)
    .filter(Boolean)
    .map((part) => (part.startsWith(':') ? `By${capital(part.slice(1))}` : part.split(/[-_]/).map(capital).join('')));
  return route.method + words.join('');
}

const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

const errorResponseName = (status: ErrorStatus): string => `Error${status}`;

/** Every operation may answer 500: a bug, never a stack trace. */
const ALWAYS: readonly ErrorStatus[] = [500];
/** And one that needs a scope, 401 without a valid key and 403 with a key that lacks the scope. */
const GUARDED: readonly ErrorStatus[] = [401, 403];

const SECURITY_SCHEME = 'apiKey';

function errorsOf(route: ApiRoute): ErrorStatus[] {
  return [...new Set([...route.errors, ...(route.scope === 'open' ? [] : GUARDED), ...ALWAYS])];
}

/**
 * The OpenAPI 3.1 document of a service, built from its route descriptions with the very schemas the
 * routes validate with. Each error status is one response component referring to the one error body;
 * operations refer to the statuses they answer. Throws when a description is inconsistent (a path
 * parameter without a schema, a status described twice), so a mistake fails every test that starts the service.
 */
export function buildOpenApiDocument(api: ApiDescription): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  const statuses = new Set<ErrorStatus>(ALWAYS);
  for (const route of api.routes) for (const status of errorsOf(route)) statuses.add(status);
  registry.registerComponent('securitySchemes', SECURITY_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key, `Authorization: Bearer ptk_<id>_<secret>`. Each operation names the scope it needs; a key with scope `admin` may call every operation.',
  });
  for (const status of [...statuses].sort()) {
    const spec = ERROR_STATUSES[status];
    registry.registerComponent('responses', errorResponseName(status), {
      description: spec.description,
      ...(spec.retryAfter
        ? { headers: { 'retry-after': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } } } }
        : {}),
      content: {
        'application/json': { schema: { $ref: '#/components/schemas/Error' }, examples: { [spec.codes[0]]: { value: spec.example } } },
      },
    });
  }
  const schemas: z.ZodType[] = [ErrorBody];
  for (const route of api.routes) {
    checkRoute(route);
    schemas.push(...(route.schemas ?? []));
    const responses: Record<string, ResponseConfig | { $ref: string }> = {};
    for (const [status, response] of Object.entries(route.responses)) responses[status] = responseConfig(response!);
    for (const status of errorsOf(route)) {
      responses[status] ??= { $ref: `#/components/responses/${errorResponseName(status)}` };
    }
    registry.registerPath({
      method: route.method,
      path: openApiPath(route.path),
      operationId: operationId(route),
      tags: [route.tag],
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      security: route.scope === 'open' ? [] : [{ [SECURITY_SCHEME]: [route.scope] }],
      request: {
        ...(route.request?.params ? { params: route.request.params } : {}),
        ...(route.request?.query ? { query: route.request.query } : {}),
        ...(route.request?.headers ? { headers: route.request.headers } : {}),
        ...(route.request?.body
          ? { body: { ...route.request.body, required: true, content: mediaConfig(route.request.body.content) } }
          : {}),
      },
      responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b))),
    });
  }
  // Wrapped: a bare zod object has a `type` of its own, which the generator would take for a definition's.
  const named = schemas.map((schema) => ({ type: 'schema' as const, schema }));
  const document = new OpenApiGeneratorV31([...registry.definitions, ...named]).generateDocument({
    openapi: '3.1.0',
    info: {
      title: api.title,
      version: '1',
      description:
        (api.description ? `${api.description}\n\n` : '') +
        'Every answer carries `x-request-id` (the one sent, when it is 1 to 64 letters, digits, `.`, `_` or `-`; else a new UUID). ' +
        'Errors are JSON with a stable `error` code (`#/components/schemas/Error`).',
    },
    tags: [...new Set(api.routes.map((r) => r.tag))].map((name) => ({ name })),
  });
  return withoutNullParameters(document);
}

function checkRoute(route: ApiRoute): void {
  const where = `${route.method.toUpperCase()} ${route.path}`;
  const params = route.request?.params ? Object.keys(route.request.params.shape) : [];
  const inPath = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
  if (params.join() !== inPath.join()) {
    throw new Error(`${where}: path parameters (${inPath.join(', ') || 'none'}) and their schemas (${params.join(', ') || 'none'}) differ`);
  }
  const twice = route.errors.filter((status) => route.responses[status] !== undefined);
  if (twice.length > 0) throw new Error(`${where}: status ${twice.join(', ')} is both an error and a described response`);
}

function responseConfig(response: ApiResponse): ResponseConfig {
  return {
    description: response.description,
    ...(response.headers ? { headers: response.headers } : {}),
    ...(response.content ? { content: mediaConfig(response.content) } : {}),
  };
}

function mediaConfig(content: Record<string, ApiMedia>): NonNullable<ResponseConfig['content']> {
  return Object.fromEntries(
    Object.entries(content).map(([type, media]) => [
      type,
      media.examples ? { schema: media.schema, examples: media.examples } : { schema: media.schema },
    ]),
  );
}

/**
 * Query and path parameters arrive as strings and are never null, but the generator marks a coerced
 * number as nullable (it accepts `null`, as 0); the document says what a client can send.
 */
function withoutNullParameters(document: OpenApiDocument): OpenApiDocument {
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item)) {
      const parameters = (operation as { parameters?: { schema?: { type?: unknown } }[] } | undefined)?.parameters;
      for (const parameter of Array.isArray(parameters) ? parameters : []) {
        const type = parameter.schema?.type;
        if (Array.isArray(type) && type.includes('null')) {
          const rest = type.filter((t) => t !== 'null');
          parameter.schema!.type = rest.length === 1 ? rest[0] : rest;
        }
      }
    }
  }
  return document;
}
