import type { z } from 'zod';
import type { RouteScope } from '../auth/keys';
import type { ErrorStatus } from './error-body';

/**
 * An HTTP route described as data: the schemas its handler validates with and the answers it gives. A
 * service's OpenAPI document is built from its list of these (`buildOpenApiDocument`), and the service
 * refuses to start when the routes it registers and the ones it describes differ.
 */
export interface ApiRoute {
  method: 'get' | 'post' | 'put' | 'delete';
  /** As Express writes it: `/v1/users/:id/profile`. */
  path: string;
  /** Groups operations in the document and on the docs page. */
  tag: string;
  /** The API key scope the route needs (`open`: none); checked for every route from this description. */
  scope: RouteScope;
  summary: string;
  description?: string;
  request?: {
    /** One schema per path parameter, named as in `path`. */
    params?: z.ZodObject;
    query?: z.ZodObject;
    headers?: z.ZodObject;
    body?: ApiBody;
  };
  /** Answers other than errors, by status. */
  responses: Partial<Record<number, ApiResponse>>;
  /** Error answers, by status: each is the one error body (`ErrorBody`) unless `responses` describes it. */
  errors: readonly ErrorStatus[];
  /** Named schemas the description refers to only by `componentRef` (a batch's entries, checked one by one). */
  schemas?: readonly z.ZodType[];
}

export interface ApiBody {
  description?: string;
  /** By media type, e.g. `application/json`. */
  content: Record<string, ApiMedia>;
}

export interface ApiResponse {
  description: string;
  content?: Record<string, ApiMedia>;
  headers?: z.ZodObject;
}

export interface ApiMedia {
  schema: z.ZodType;
  /** Named examples; each must pass `schema` (a unit test holds every one). */
  examples?: Record<string, ApiExample>;
}

export interface ApiExample {
  summary: string;
  value: unknown;
}

/** What a service serves at `/openapi.json`: its title and its routes (the health routes are added by runtime). */
export interface ApiDescription {
  title: string;
  description?: string;
  routes: readonly ApiRoute[];
}

/** `application/json` content with `schema` and its examples. */
export function json(schema: z.ZodType, examples?: Record<string, ApiExample>): Record<string, ApiMedia> {
  return { 'application/json': examples ? { schema, examples } : { schema } };
}
