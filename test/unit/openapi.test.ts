import { execFile } from 'node:child_process';
import path from 'node:path';
import { Router, type Router as ExpressRouter } from 'express';
import fc from 'fast-check';
import { z } from 'zod';
import {
  ConflictError,
  ERROR_STATUSES,
  ErrorBody,
  GoneError,
  HEALTH_ROUTES,
  IdSchema,
  INDEXER_API,
  JOBS_API,
  INGEST_API,
  LimitExceededError,
  NotFoundError,
  QueueFullError,
  TransientError,
  UnavailableError,
  UnsupportedMediaTypeError,
  ValidationError,
  buildOpenApiDocument,
  openApiPath,
  type ApiDescription,
  type ApiRoute,
  type OpenApiDocument,
  type PortraitError,
} from '@portrait/shared';
import {
  createApp,
  createLogger,
  createRegistry,
  documentedRoutes,
  registeredRoutes,
  renderDocsPage,
  routeMismatch,
} from '@portrait/runtime';
import { ingestRoutes, type RouteOptions } from '../../services/ingest/src/routes';
import { QUERY_API } from '../../services/query/src/api';
import { consoleRoutes } from '../../services/query/src/console';
import { exportRoutes } from '../../services/query/src/exports';
import { keyRoutes } from '../../services/query/src/keys';
import { erasureRoutes } from '../../services/query/src/erasure';
import { modelRoutes } from '../../services/query/src/models';
import { recommendationRoutes } from '../../services/query/src/recommend';
import { queryRoutes } from '../../services/query/src/routes';
import { segmentRoutes } from '../../services/query/src/segments';

const ROOT = path.resolve(__dirname, '../..');

/** Stands in for a dependency no route touches while routes are being registered. */
const inert = <T>(): T => ({}) as T;

/** Each service's routers, registered as its `start` function registers them. */
const SERVICES: { name: string; api: ApiDescription; routers: () => ExpressRouter[] }[] = [
  {
    name: 'ingest',
    api: INGEST_API,
    routers: () => [
      ingestRoutes({
        intake: inert(),
        registry: createRegistry('ingest'),
        bodyLimit: '5mb',
        timeBounds: { maxFutureSkewMs: 0, maxAgeMs: 0 },
      } satisfies RouteOptions),
    ],
  },
  { name: 'indexer', api: INDEXER_API, routers: () => [] },
  { name: 'jobs', api: JOBS_API, routers: () => [] },
  {
    name: 'query',
    api: QUERY_API,
    routers: () => [
      queryRoutes(inert()),
      segmentRoutes(inert(), inert(), inert()),
      exportRoutes({ store: inert(), jobs: inert(), stream: inert() }),
      modelRoutes(inert(), inert()),
      recommendationRoutes(inert(), inert()),
      keyRoutes(inert(), inert()),
      erasureRoutes(inert(), inert()),
      consoleRoutes('/nowhere'),
    ],
  },
];

const documentOf = (api: ApiDescription): OpenApiDocument => buildOpenApiDocument({ ...api, routes: [...HEALTH_ROUTES, ...api.routes] });
const appWith = (api: ApiDescription) =>
  createApp({ logger: createLogger('test', 'silent'), registry: createRegistry('test'), readiness: {}, api });

describe.each(SERVICES)('the $name API document', ({ api, routers }) => {
  const document = documentOf(api);

  it('describes every route the app registers, and no other', () => {
    const { app, finish } = appWith(api);
    for (const router of routers()) app.use(router);
    const registered = registeredRoutes(app);
    expect(registered.length).toBe(HEALTH_ROUTES.length + api.routes.length);
    expect(routeMismatch(registered, documentedRoutes(document))).toEqual({ undocumented: [], unregistered: [] });
    expect(() => finish()).not.toThrow();
  });

  it('has examples that each pass the schema they illustrate, and none unchecked', () => {
    const checks = exampleChecks(document, [...HEALTH_ROUTES, ...api.routes]);
    expect(checks.filter((c) => !c.entry).length).toBe(countExamples(document));
    const failures = checks
      .map((c) => ({ where: c.where, result: c.schema.safeParse(c.value) }))
      .filter((c) => !c.result.success)
      .map((c) => `${c.where}: ${c.result.error?.message}`);
    expect(failures).toEqual([]);
  });

  it('refers only to components it has', () => {
    const missing = refsOf(document).filter((ref) => resolve(document, ref) === undefined);
    expect(missing).toEqual([]);
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(await validateOpenApi(document)).toEqual({ valid: true });
  });

  it('gives every operation an id, a tag, the 500 answer and an error body for each error status', () => {
    for (const route of api.routes) {
      const op = operation(document, route);
      expect(op.operationId).toMatch(/^[a-z][A-Za-z0-9]+$/);
      expect(op.tags).toEqual([route.tag]);
      for (const status of [...route.errors, 500]) expect(op.responses[status]).toEqual({ $ref: `#/components/responses/Error${status}` });
    }
  });
});

describe('parameters', () => {
  it('are never nullable: they arrive as strings, a coerced number included', () => {
    const document = documentOf(QUERY_API);
    const parameters = Object.values(document.paths ?? {}).flatMap((item) =>
      Object.values(item as Record<string, { parameters?: { name: string; schema?: { type?: unknown } }[] }>).flatMap(
        (op) => op.parameters ?? [],
      ),
    );
    expect(parameters.find((p) => p.name === 'minOrders')?.schema?.type).toBe('integer');
    expect(parameters.filter((p) => Array.isArray(p.schema?.type) || p.schema?.type === 'null')).toEqual([]);
  });
});

describe('route checks at start-up', () => {
  const api: ApiDescription = {
    title: 'Portrait test',
    routes: [
      {
        method: 'get',
        path: '/v1/things/:id',
        scope: 'read',
        tag: 't',
        summary: 's',
        request: { params: z.object({ id: IdSchema }) },
        responses: { 200: { description: 'ok' } },
        errors: [],
      },
    ],
  };

  it('refuses to finish an app with a route its description lacks', () => {
    const { app, finish } = appWith(api);
    const router = Router();
    router.get('/v1/things/:id', (_req, res) => void res.end());
    router.post('/v1/things', (_req, res) => void res.end());
    app.use(router);
    expect(() => finish()).toThrow('registered but not described: POST /v1/things');
  });

  it('refuses to finish an app missing a described route', () => {
    const { finish } = appWith(api);
    expect(() => finish()).toThrow('described but not registered: GET /v1/things/:id');
  });

  it('walks routers mounted under a path, leaves out the HEAD Express adds, and names .all() routes', () => {
    const { app } = appWith(api);
    const inner = Router();
    inner.get('/z', (_req, res) => void res.end());
    inner.head('/h', (_req, res) => void res.end());
    const outer = Router();
    outer.use('/inner', inner);
    outer.all('/any', (_req, res) => void res.end());
    app.use('/base', outer);
    const own = registeredRoutes(app).filter((r) => r.path.startsWith('/base'));
    expect(own).toEqual([
      { method: 'GET', path: '/base/inner/z' },
      { method: 'HEAD', path: '/base/inner/h' },
      { method: 'ALL', path: '/base/any' },
    ]);
  });

  it('refuses a description whose path parameters and schemas differ, or that describes a status twice', () => {
    const route: ApiRoute = {
      method: 'get',
      path: '/v1/x/:id',
      scope: 'read',
      tag: 't',
      summary: 's',
      responses: { 200: { description: 'ok' } },
      errors: [],
    };
    expect(() => buildOpenApiDocument({ title: 't', routes: [route] })).toThrow(
      'GET /v1/x/:id: path parameters (id) and their schemas (none) differ',
    );
    expect(() =>
      buildOpenApiDocument({
        title: 't',
        routes: [{ ...route, path: '/v1/x', responses: { 404: { description: 'gone' } }, errors: [404] }],
      }),
    ).toThrow('status 404 is both an error and a described response');
  });
});

describe('error answers', () => {
  it('document the status and code of every error that reaches a client', () => {
    const errors: PortraitError[] = [
      new ValidationError('x', []),
      new NotFoundError('x'),
      new ConflictError('x'),
      new GoneError('x'),
      new LimitExceededError('x', 1, 2),
      new UnsupportedMediaTypeError('x'),
      new QueueFullError('x', 1),
      new UnavailableError('x', 'redis'),
      new TransientError('x'),
    ];
    const documented = (status: number): readonly string[] =>
      (ERROR_STATUSES as Record<number, { codes: readonly string[] }>)[status]?.codes ?? [];
    for (const error of errors) expect(documented(error.status)).toContain(error.code);
    // What the error middleware answers itself: body parser, Express, unknown routes, bugs.
    expect(documented(400)).toEqual(expect.arrayContaining(['malformed_json', 'bad_request']));
    expect(documented(413)).toContain('payload_too_large');
    expect(documented(404)).toContain('not_found');
    expect(documented(500)).toContain('internal');
  });

  it('say Retry-After exactly where the error carries one', () => {
    const withRetry = [new QueueFullError('x', 1), new UnavailableError('x', 'redis'), new TransientError('x')];
    for (const error of withRetry) expect(ERROR_STATUSES[error.status as 429 | 503].retryAfter).toBe(true);
    const document = documentOf(QUERY_API);
    const responses = document.components?.responses as Record<string, { headers?: Record<string, unknown> }>;
    expect(Object.keys(responses).filter((name) => responses[name]!.headers?.['retry-after'])).toEqual(['Error503']);
  });
});

describe('the docs page', () => {
  it('shows every operation, and loads nothing from anywhere', () => {
    const document = documentOf(QUERY_API);
    const page = renderDocsPage(document);
    for (const route of [...HEALTH_ROUTES, ...QUERY_API.routes]) expect(page).toContain(`<code>${openApiPath(route.path)}</code>`);
    expect(page).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|@import|url\(/i);
    expect(page.match(/href="([^"]*)"/g)!.filter((h) => !/^href="(#[^"]+|openapi\.json)"$/.test(h))).toEqual([]);
  });

  it('escapes whatever text a description holds', () => {
    const ALLOWED =
      /<!doctype html>|<\/?(html|head|meta|title|style|body|h[1-4]|p|a|nav|ul|li|section|span|code|pre|table|tr|th|td|details|summary|div|b)(\s[^<>]*)?>/g;
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (title, summary, value) => {
        const page = renderDocsPage(
          buildOpenApiDocument({
            title,
            description: summary,
            routes: [
              {
                method: 'get',
                path: '/v1/x',
                scope: 'read',
                tag: title || 'x',
                summary,
                description: summary,
                responses: {
                  200: {
                    description: summary,
                    content: { 'text/plain': { schema: ErrorBody, examples: { [title || 'e']: { summary, value } } } },
                  },
                },
                errors: [],
              },
            ],
          }),
        );
        const rest = page.replace(ALLOWED, '');
        expect(rest).not.toContain('<');
        expect(page).not.toMatch(/\son\w+=/i);
      }),
    );
  });
});

// --- helpers ---

type Media = { schema?: unknown; examples?: Record<string, { value?: unknown }> };
type Operation = {
  operationId?: string;
  tags?: string[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { $ref?: string; content?: Record<string, Media> }>;
};

function operation(document: OpenApiDocument, route: ApiRoute): Operation {
  return (document.paths?.[openApiPath(route.path)] as Record<string, Operation>)[route.method]!;
}

/** Each example of the document, with the zod schema of the route and media type it sits under. */
interface ExampleCheck {
  where: string;
  schema: z.ZodType;
  value: unknown;
  /** One entry of a batch example, checked with the schema the route applies to each entry. */
  entry?: boolean;
}

function exampleChecks(document: OpenApiDocument, routes: readonly ApiRoute[]): ExampleCheck[] {
  const checks: ExampleCheck[] = [];
  const add = (where: string, content: Record<string, Media> | undefined, schemaOf: (type: string) => z.ZodType, entries?: z.ZodType) => {
    for (const [type, media] of Object.entries(content ?? {})) {
      for (const [name, example] of Object.entries(media.examples ?? {})) {
        checks.push({ where: `${where} ${type} ${name}`, schema: schemaOf(type), value: example.value });
        // A batch's entries are checked one by one by the route: so are the examples'.
        const list = entries && Object.values(example.value as object).find(Array.isArray);
        if (entries && list) {
          (list as unknown[]).forEach((value, i) =>
            checks.push({ where: `${where} ${name} entry ${i}`, schema: entries, value, entry: true }),
          );
        }
      }
    }
  };
  for (const route of routes) {
    const op = operation(document, route);
    const where = `${route.method.toUpperCase()} ${route.path}`;
    add(`${where} body`, op.requestBody?.content, (type) => route.request!.body!.content[type]!.schema, route.schemas?.[0]);
    for (const [status, response] of Object.entries(op.responses)) {
      if (response.$ref) continue;
      add(`${where} ${status}`, response.content, (type) => route.responses[Number(status)]!.content![type]!.schema);
    }
  }
  for (const [name, response] of Object.entries(
    (document.components?.responses ?? {}) as Record<string, { content?: Record<string, Media> }>,
  )) {
    add(`components.responses.${name}`, response.content, () => ErrorBody);
  }
  return checks;
}

/** Example objects anywhere in the document. */
function countExamples(node: unknown): number {
  if (Array.isArray(node)) return node.reduce((n: number, el) => n + countExamples(el), 0);
  if (node === null || typeof node !== 'object') return 0;
  return Object.entries(node).reduce(
    (n, [key, value]) =>
      n +
      (key === 'examples' && value && typeof value === 'object' && !Array.isArray(value)
        ? Object.keys(value).length
        : countExamples(value)),
    0,
  );
}

function refsOf(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(refsOf);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => (key === '$ref' && typeof value === 'string' ? [value] : refsOf(value)));
}

function resolve(document: OpenApiDocument, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined), document);
}

/** The OpenAPI schema validator is an ES module: it runs in a child process, reading the document on stdin. */
function validateOpenApi(document: OpenApiDocument): Promise<unknown> {
  const script =
    "import { Validator } from '@seriousme/openapi-schema-validator';" +
    "let text = ''; for await (const chunk of process.stdin) text += chunk;" +
    'const result = await new Validator().validate(JSON.parse(text));' +
    'process.stdout.write(JSON.stringify(result));';
  return new Promise((done, fail) => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT }, (error, stdout) =>
      error ? fail(error) : done(JSON.parse(stdout)),
    );
    child.stdin!.end(JSON.stringify(document));
  });
}
