import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  ACTOR_HEADER,
  allows,
  ApiKeySummarySchema,
  ForbiddenError,
  formatApiKey,
  NotFoundError,
  parseApiKey,
  RateLimitedError,
  UnauthorizedError,
  UnavailableError,
  type RateLimit,
  type ApiKeySummary,
  type ApiRoute,
  type CreateApiKey,
  type CreatedApiKey,
  type Scope,
} from '@portrait/shared';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from './redis';

/** The Redis key of one API key's record (a hash) and of the set of every key id. */
export function apiKeyRecordKey(namespace: string, keyId: string): string {
  return `${namespace}:apikeys:${keyId}`;
}
export function apiKeyIndexKey(namespace: string): string {
  return `${namespace}:apikeys`;
}

/** A key as the request that presented it knows it. */
export interface Caller {
  keyId: string;
  name: string;
  scopes: Scope[];
  rateLimit?: RateLimit;
}

const hashOf = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

/**
 * API keys in Redis: one hash per key (name, scopes, SHA-256 of the secret, created, expires, revoked), shared by
 * every process, read on every request, so a revocation or an expiry holds at once everywhere. The secret is
 * returned once, by `create`, and never stored.
 */
export class ApiKeyStore {
  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
  ) {}

  async create(request: CreateApiKey, createdBy: string, nowMs: number): Promise<CreatedApiKey> {
    const keyId = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const summary: ApiKeySummary = {
      keyId,
      name: request.name,
      scopes: [...request.scopes],
      createdAt: new Date(nowMs).toISOString(),
      createdBy,
      ...(request.expiresInDays === undefined ? {} : { expiresAt: new Date(nowMs + request.expiresInDays * 86_400_000).toISOString() }),
      ...(request.rateLimit === undefined ? {} : { rateLimit: request.rateLimit }),
    };
    const created = await this.redis
      .multi()
      .hsetnx(apiKeyRecordKey(this.namespace, keyId), 'summary', JSON.stringify(summary))
      .hset(apiKeyRecordKey(this.namespace, keyId), 'hash', hashOf(secret).toString('hex'))
      .sadd(apiKeyIndexKey(this.namespace), keyId)
      .exec();
    if (created?.[0]?.[1] !== 1) throw new Error(`API key id ${keyId} already exists; create the key again`);
    return { ...summary, key: formatApiKey(keyId, secret) };
  }

  async list(): Promise<ApiKeySummary[]> {
    const ids = (await this.redis.smembers(apiKeyIndexKey(this.namespace))).sort();
    const out: ApiKeySummary[] = [];
    for (const id of ids) {
      const summary = await this.summary(id);
      if (summary) out.push(summary);
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.keyId.localeCompare(b.keyId));
  }

  /** Revokes a key at once, everywhere; revoking a revoked key changes nothing. */
  async revoke(keyId: string, revokedBy: string, nowMs: number): Promise<ApiKeySummary> {
    const summary = await this.summary(keyId);
    if (!summary) throw new NotFoundError(`no API key ${keyId}; GET /v1/keys lists them`);
    if (summary.revokedAt) return summary;
    const revoked = { ...summary, revokedAt: new Date(nowMs).toISOString(), revokedBy };
    await this.redis.hset(apiKeyRecordKey(this.namespace, keyId), 'summary', JSON.stringify(revoked));
    return revoked;
  }

  /** The caller a presented key stands for; `UnauthorizedError` for anything else, without saying which check failed. */
  async verify(presented: string | undefined, nowMs: number): Promise<Caller> {
    const refused = new UnauthorizedError('send a valid API key: Authorization: Bearer <key> (npm run keys -- create makes one)');
    const parsed = parseApiKey(presented);
    if (!parsed) throw refused;
    const [summaryText, hashHex] = await this.redis
      .hmget(apiKeyRecordKey(this.namespace, parsed.keyId), 'summary', 'hash')
      .catch((error: Error) => {
        throw new UnavailableError(`Redis, which holds the API keys, cannot be reached (${error.message}); retry shortly`, 'redis');
      });
    if (!summaryText || !hashHex) throw refused;
    const stored = Buffer.from(hashHex, 'hex');
    const given = hashOf(parsed.secret);
    if (stored.length !== given.length || !timingSafeEqual(stored, given)) throw refused;
    const summary = ApiKeySummarySchema.parse(JSON.parse(summaryText));
    if (summary.revokedAt !== undefined) throw refused;
    if (summary.expiresAt !== undefined && Date.parse(summary.expiresAt) <= nowMs) throw refused;
    return {
      keyId: summary.keyId,
      name: summary.name,
      scopes: summary.scopes,
      ...(summary.rateLimit ? { rateLimit: summary.rateLimit } : {}),
    };
  }

  private async summary(keyId: string): Promise<ApiKeySummary | undefined> {
    if (!/^[0-9a-f]{16}$/.test(keyId)) return undefined;
    const text = await this.redis.hget(apiKeyRecordKey(this.namespace, keyId), 'summary');
    return text ? ApiKeySummarySchema.parse(JSON.parse(text)) : undefined;
  }
}

/**
 * The API key check of an HTTP service as its config asks for it: every scoped route with AUTH_REQUIRED, `/metrics`
 * with METRICS_REQUIRE_KEY; undefined when both are off.
 */
export function apiKeyAuth(
  redis: Redis,
  namespace: string,
  config: { AUTH_REQUIRED: boolean; METRICS_REQUIRE_KEY: boolean; API_KEY_RATE_LIMIT: number; API_KEY_RATE_WINDOW_SECONDS: number },
): AuthorizeOptions | undefined {
  if (!config.AUTH_REQUIRED && !config.METRICS_REQUIRE_KEY) return undefined;
  return {
    store: new ApiKeyStore(redis, namespace),
    now: Date.now,
    limits: new KeyRateLimits(redis, namespace, { requests: config.API_KEY_RATE_LIMIT, perSeconds: config.API_KEY_RATE_WINDOW_SECONDS }),
    scopedRoutes: config.AUTH_REQUIRED,
    metrics: config.METRICS_REQUIRE_KEY,
  };
}

/** The routes the check guards, with the scope each asks for: `/metrics` asks for `metrics` when it is protected. */
export function guardedRoutes(routes: readonly ApiRoute[], options: Pick<AuthorizeOptions, 'scopedRoutes' | 'metrics'>): ApiRoute[] {
  return routes
    .map((r) => (r.path === '/metrics' && options.metrics ? { ...r, scope: 'metrics' as const } : r))
    .filter((r) => r.scope !== 'open' && (options.scopedRoutes !== false || r.path === '/metrics'));
}

/** The key a request presents: `Authorization: Bearer <key>`, or `x-api-key: <key>`. */
export function presentedKey(req: Request): string | undefined {
  const authorization = req.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  const header = req.headers['x-api-key'];
  return typeof header === 'string' ? header : undefined;
}

/**
 * Per-key rate limits held in Redis (rate-limiter-flexible's atomic fixed windows), so every process counts the
 * same requests: a key's own limit, or the default. One limiter per distinct limit; the limit is part of the
 * counter's name, so changing it starts a fresh count.
 */
export class KeyRateLimits {
  private readonly limiters = new Map<string, RateLimiterRedis>();

  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
    private readonly fallback: RateLimit,
  ) {}

  async consume(caller: Caller): Promise<void> {
    const limit = caller.rateLimit ?? this.fallback;
    const shape = `${limit.requests}per${limit.perSeconds}`;
    let limiter = this.limiters.get(shape);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: `${this.namespace}:ratelimit:${shape}`,
        points: limit.requests,
        duration: limit.perSeconds,
      });
      this.limiters.set(shape, limiter);
    }
    try {
      await limiter.consume(caller.keyId);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes))
        throw new UnavailableError(
          `Redis, which counts the rate limits, cannot be reached (${(rejection as Error).message}); retry shortly`,
          'redis',
        );
      const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new RateLimitedError(
        `key ${caller.name} sent more than ${limit.requests} requests in ${limit.perSeconds} s; retry after ${seconds} s`,
        seconds,
      );
    }
  }
}

export interface AuthorizeOptions {
  store: ApiKeyStore;
  now: () => number;
  /** Without it, keys are not rate limited. */
  limits?: KeyRateLimits;
  /** Every route with a scope asks for a key (unless `false`). */
  scopedRoutes?: boolean;
  /** `/metrics` asks for a key with scope `metrics`. */
  metrics?: boolean;
}

interface GuardedRoute {
  method: string;
  pattern: RegExp;
  params: number;
  scope: Scope;
}

/** `/v1/segments/:id/count` as a regular expression over request paths (a parameter is one non-empty segment). */
function routePattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}

/**
 * Checks every described route's scope before its handler runs, from the service's own route descriptions (the
 * service refuses to start when they and its handlers differ, so no handler goes unchecked). `401` without a valid
 * key, `403` with a key that lacks the scope. The key's name becomes the request's actor (`x-portrait-actor`, which
 * audit records name), whatever the client sent. A path no route describes passes on to the `404`.
 */
export function authorize(routes: readonly ApiRoute[], options: AuthorizeOptions): RequestHandler {
  const guarded: GuardedRoute[] = guardedRoutes(routes, options)
    .filter((r): r is ApiRoute & { scope: Scope } => r.scope !== 'open')
    .map((r) => ({
      method: r.method.toUpperCase(),
      pattern: routePattern(r.path),
      params: (r.path.match(/:/g) ?? []).length,
      scope: r.scope,
    }))
    // The most literal route first: `/v1/items/batch` before `/v1/items/:id`.
    .sort((a, b) => a.params - b.params);
  return (req: Request, res: Response, next: NextFunction) => {
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const route = guarded.find((r) => r.method === method && r.pattern.test(req.path));
    if (!route) return next();
    options.store
      .verify(presentedKey(req), options.now())
      .then(async (caller) => {
        if (!allows(caller.scopes, route.scope))
          throw new ForbiddenError(
            `key ${caller.name} (scopes ${caller.scopes.join(', ')}) may not do this: it needs scope ${route.scope}`,
            route.scope,
          );
        await options.limits?.consume(caller);
        req.headers[ACTOR_HEADER] = caller.name;
        res.locals.caller = caller;
        next();
      })
      .catch((error: unknown) => {
        if (error instanceof UnauthorizedError) res.setHeader('www-authenticate', `Bearer realm="portrait", scope="${route.scope}"`);
        next(error);
      });
  };
}
