import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import { Histogram, type Registry } from 'prom-client';
import {
  HEALTH_ROUTES,
  PortraitError,
  UnsupportedMediaTypeError,
  buildOpenApiDocument,
  type ApiDescription,
  type Issue,
} from '@portrait/shared';
import { authorize, type AuthorizeOptions } from './api-keys';
import { documentedRoutes, registeredRoutes, renderDocsPage, routeMismatch } from './api-docs';
import { loggedUrl, type Logger } from './logger';

export type ReadinessCheck = () => Promise<boolean>;

export interface AppOptions {
  logger: Logger;
  registry: Registry;
  /** Named dependency checks for /readyz. */
  readiness: Record<string, ReadinessCheck>;
  /** API keys: when given, every described route with a scope asks for a key that holds it. */
  auth?: AuthorizeOptions;
  /** Largest accepted JSON body. */
  bodyLimit?: string;
  /**
   * The service's routes, served as OpenAPI at /openapi.json and as a page at /docs (the routes every
   * service has are added). `finish()` throws when the routes registered and the ones described differ.
   */
  api?: ApiDescription;
}

/**
 * An Express app with what every Portrait service has: request ids, structured access logs,
 * strict JSON parsing, /healthz, /readyz, /metrics, /openapi.json and /docs. Routes are added by the
 * caller, then `finish()` checks that they are the ones described and adds the 404 and error handlers.
 */
export function createApp(options: AppOptions): { app: Express; finish: () => void } {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  const duration = new Histogram({
    name: 'portrait_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [options.registry],
  });

  app.use(
    pinoHttp({
      logger: options.logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
      serializers: {
        req: (req: { url?: string; query?: unknown }) => ({ ...req, url: loggedUrl(req.url), query: undefined }),
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'debug'),
    }),
  );
  app.use((req, res, next) => {
    const end = duration.startTimer();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      end({ method: req.method, route: route ? `${req.baseUrl}${route}` : 'unmatched', status: String(res.statusCode) });
    });
    next();
  });

  const api = options.api ?? { title: 'Portrait', routes: [] };
  // Before every route, and before any body is read: a caller without the scope gets nothing parsed.
  if (options.auth) app.use(authorize([...HEALTH_ROUTES, ...api.routes], options.auth));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const entries = await Promise.all(
      Object.entries(options.readiness).map(async ([name, check]) => [name, await check().catch(() => false)] as const),
    );
    const checks = Object.fromEntries(entries.map(([name, ok]) => [name, ok ? 'up' : 'down']));
    const ready = entries.every(([, ok]) => ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', options.registry.contentType);
    res.send(await options.registry.metrics());
  });

  const document = buildOpenApiDocument({ ...api, routes: [...HEALTH_ROUTES, ...api.routes] });
  const page = renderDocsPage(document);
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.get('/docs', (_req, res) => {
    // The page holds no script and loads nothing: the policy says so to the browser.
    res.setHeader('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
    res.type('html').send(page);
  });

  const finish = (): void => {
    const { undocumented, unregistered } = routeMismatch(registeredRoutes(app), documentedRoutes(document));
    if (undocumented.length > 0 || unregistered.length > 0) {
      throw new Error(
        `the routes of ${api.title} and its API description differ: ` +
          [
            undocumented.length > 0 ? `registered but not described: ${undocumented.join(', ')}` : '',
            unregistered.length > 0 ? `described but not registered: ${unregistered.join(', ')}` : '',
          ]
            .filter(Boolean)
            .join('; ') +
          ' (describe routes next to their schemas in shared/src/api and pass them to createApp as `api`)',
      );
    }
    app.use((req, res) => {
      res.status(404).json({ error: 'not_found', message: `no route for ${req.method} ${req.path}` });
    });
    app.use(errorHandler(options.logger));
  };
  return { app, finish };
}

/** JSON body parsing for API routes: only application/json, bounded size, clear errors. */
export function jsonBody(limit: string): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    const hasBody = req.headers['content-length'] !== '0' && (req.headers['content-length'] || req.headers['transfer-encoding']);
    if (hasBody && !req.is('application/json')) {
      next(new UnsupportedMediaTypeError(`expected content-type application/json, got ${req.headers['content-type'] ?? 'none'}`));
      return;
    }
    next();
  };
  return [requireJson, express.json({ limit, strict: false })];
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

/** The one place errors become HTTP answers; never leaks a stack trace. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const send = (status: number, body: Record<string, unknown>): void => {
      if (!res.headersSent) res.status(status).json(body);
      else res.end();
    };
    // A 500-class PortraitError (bad configuration) is a bug if it reaches a request: logged below like any other.
    if (error instanceof PortraitError && error.status !== 500) {
      const retryAfter = error.retryAfterSeconds();
      if (retryAfter !== undefined) res.setHeader('retry-after', String(retryAfter));
      send(error.status, { error: error.code, message: error.message, ...error.details() });
    } else if (isBodyParserError(error)) {
      if (error.type === 'entity.too.large') {
        send(413, { error: 'payload_too_large', message: `request body exceeds ${error.limit} bytes; split it into smaller batches` });
      } else if (error.type === 'entity.parse.failed') {
        const issues: Issue[] = [{ path: '(body)', reason: `malformed JSON: ${error.message}` }];
        send(400, { error: 'malformed_json', message: 'the request body is not valid JSON', issues });
      } else {
        send(error.status ?? 400, { error: 'bad_request', message: error.message });
      }
    } else if (isClientHttpError(error)) {
      // Express and body-parser errors without a type: an undecodable path parameter, a body whose
      // content-encoding does not match it. The client's fault, whatever the library.
      send(error.status, { error: error.status === 415 ? 'unsupported_media_type' : 'bad_request', message: error.message });
    } else {
      ((req as { log?: Logger }).log ?? logger).error({ err: error }, 'unhandled error');
      send(500, { error: 'internal', message: 'internal error; the request id in x-request-id identifies it in the logs' });
    }
  };
}

function isClientHttpError(error: unknown): error is Error & { status: number } {
  const status = (error as { status?: unknown } | undefined)?.status;
  return error instanceof Error && typeof status === 'number' && status >= 400 && status < 500;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return error instanceof Error && typeof (error as BodyParserError).type === 'string' && 'status' in error;
}

export interface Listening {
  server: Server;
  port: number;
  url: string;
  /** Stops accepting connections and resolves when in-flight requests have finished. */
  close: () => Promise<void>;
}

/** How long in-flight requests get to finish once a service stops listening. */
const CLOSE_GRACE_MS = 10_000;

export function listen(app: Express, port: number, host = '127.0.0.1'): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    let closing: Promise<void> | undefined;
    // Once closing, every answer asks the client to drop its keep-alive connection, so that clients reusing
    // one cannot keep a stopping service busy; whatever is still open after the grace period is cut.
    server.on('request', (_req, res: ServerResponse) => {
      if (closing) res.setHeader('connection', 'close');
    });
    // Requests Node refuses before Express sees them (headers over its limit, broken HTTP) still get JSON.
    server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return;
      const [status, text, code] =
        error.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'Request Header Fields Too Large', 'headers_too_large']
          : [400, 'Bad Request', 'bad_request'];
      const body = JSON.stringify({
        error: code,
        message: error.code === 'HPE_HEADER_OVERFLOW' ? 'request headers exceed 16 KiB' : 'malformed HTTP request',
      });
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    });
    server.once('error', reject);
    server.once('listening', () => {
      const actual = (server.address() as AddressInfo).port;
      server.keepAliveTimeout = 5000;
      resolve({
        server,
        port: actual,
        url: `http://${host}:${actual}`,
        close: () =>
          (closing ??= new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
            setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
          })),
      });
    });
  });
}
