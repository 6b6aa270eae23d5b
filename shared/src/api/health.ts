import { z } from 'zod';
import { json, type ApiDescription, type ApiRoute } from './route';

/** The routes every service has (`createApp` in services/runtime registers them). */

const Liveness = z.object({ status: z.literal('ok') }).meta({ id: 'Liveness' });

const Readiness = z
  .object({
    status: z.enum(['ready', 'not ready']),
    checks: z.record(z.string(), z.enum(['up', 'down'])).meta({ description: 'Each dependency the service needs, by name' }),
  })
  .meta({ id: 'Readiness' });

const OpenApiJson = z.record(z.string(), z.unknown()).meta({ description: 'An OpenAPI 3.1 document' });

export const HEALTH_ROUTES: readonly ApiRoute[] = [
  {
    method: 'get',
    path: '/healthz',
    tag: 'operations',
    scope: 'open',
    summary: 'Liveness: the process answers',
    responses: { 200: { description: 'Up', content: json(Liveness, { up: { summary: 'Up', value: { status: 'ok' } } }) } },
    errors: [],
  },
  {
    method: 'get',
    path: '/readyz',
    tag: 'operations',
    scope: 'open',
    summary: 'Readiness: every dependency the service needs is reachable',
    responses: {
      200: {
        description: 'Ready',
        content: json(Readiness, {
          ready: { summary: 'Both reachable', value: { status: 'ready', checks: { elasticsearch: 'up', redis: 'up' } } },
        }),
      },
      503: {
        description: 'A dependency is down; `checks` says which',
        content: json(Readiness, {
          redisDown: { summary: 'Redis down', value: { status: 'not ready', checks: { elasticsearch: 'up', redis: 'down' } } },
        }),
      },
    },
    errors: [],
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'operations',
    scope: 'open',
    summary: 'Prometheus metrics (text exposition format)',
    responses: { 200: { description: 'The metrics', content: { 'text/plain': { schema: z.string() } } } },
    errors: [],
  },
  {
    method: 'get',
    path: '/openapi.json',
    tag: 'operations',
    scope: 'open',
    summary: "This service's API as an OpenAPI 3.1 document",
    responses: { 200: { description: 'The document', content: json(OpenApiJson) } },
    errors: [],
  },
  {
    method: 'get',
    path: '/docs',
    tag: 'operations',
    scope: 'open',
    summary: 'The same document as a self-contained HTML page',
    responses: { 200: { description: 'The page', content: { 'text/html': { schema: z.string() } } } },
    errors: [],
  },
];

/** The indexer serves only the routes above. */
export const INDEXER_API: ApiDescription = {
  title: 'Portrait indexer',
  description: 'Folds queued events into profiles; its HTTP port serves operations only.',
  routes: [],
};

/** The jobs process serves only the routes above too. */
export const JOBS_API: ApiDescription = {
  title: 'Portrait jobs',
  description:
    'Runs batch work (profile refresh, retention, segment backfill and reconciliation, export files); its HTTP port serves operations only.',
  routes: [],
};
