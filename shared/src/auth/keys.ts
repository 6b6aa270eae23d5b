import { z } from 'zod';

/**
 * API keys and what they may do. A key is `ptk_<id>_<secret>`: the id (16 lowercase hex characters) names it in
 * lists, audit records and revocations; the secret (43 base64url characters, 256 random bits) proves it. Only a
 * hash of the secret is stored. The secret is as random as a hash output, so one SHA-256 is as strong as a slow
 * password hash would be, and keeps the check cheap enough to run on every request.
 */

/** What a key may do; `admin` may do everything. */
export const SCOPES = ['ingest', 'read', 'segments', 'export', 'models', 'metrics', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** What a route asks of the caller: a scope, or nothing (`open`: health, readiness, the API description). */
export type RouteScope = Scope | 'open';

export const SCOPE_DESCRIPTIONS: Readonly<Record<Scope, string>> = {
  ingest: 'send events, user attributes and catalogue items',
  read: 'read profiles, search them, read memberships, recommendations and insights',
  segments: 'create, change, delete and evaluate segments',
  export: 'start, list, download and delete audience exports',
  models: 'train, list and promote models',
  metrics: 'scrape `/metrics` of every service, when METRICS_REQUIRE_KEY is on',
  admin: 'everything, including API keys',
};

export const API_KEY_PREFIX = 'ptk';
const KEY_PATTERN = /^ptk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface ParsedApiKey {
  keyId: string;
  secret: string;
}

/** The id and secret of a well-formed key; undefined for anything else (no detail: the caller answers `401`). */
export function parseApiKey(text: unknown): ParsedApiKey | undefined {
  if (typeof text !== 'string' || text.length > 200) return undefined;
  const match = KEY_PATTERN.exec(text);
  return match ? { keyId: match[1]!, secret: match[2]! } : undefined;
}

export function formatApiKey(keyId: string, secret: string): string {
  const key = `${API_KEY_PREFIX}_${keyId}_${secret}`;
  if (!KEY_PATTERN.test(key)) throw new RangeError('an API key id is 16 hex characters and its secret 43 base64url characters');
  return key;
}

/** Whether a key holding `granted` may call a route asking `needed`. */
export function allows(granted: readonly Scope[], needed: RouteScope): boolean {
  return needed === 'open' || granted.includes('admin') || granted.includes(needed);
}

export const ApiKeyNameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._@-]*$/, 'letters, digits, spaces and . _ @ - (starting with a letter or digit)')
  .meta({ description: 'Who holds the key: it is the actor of every audit record the key writes' });

export const RateLimitSchema = z
  .strictObject({
    requests: z.number().int().min(1).max(1_000_000),
    perSeconds: z.number().int().min(1).max(3600),
  })
  .meta({ id: 'RateLimit', description: 'At most `requests` requests per `perSeconds` seconds, counted across every process' });
export type RateLimit = z.infer<typeof RateLimitSchema>;

export const CreateApiKeySchema = z
  .strictObject({
    name: ApiKeyNameSchema,
    scopes: z
      .array(z.enum(SCOPES))
      .min(1)
      .max(SCOPES.length)
      .refine((s) => new Set(s).size === s.length, 'each scope once')
      .meta({ description: `What the key may do: ${SCOPES.map((s) => `\`${s}\` (${SCOPE_DESCRIPTIONS[s]})`).join(', ')}` }),
    expiresInDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .optional()
      .meta({ description: 'The key stops working this many days after it is created; without it, it works until revoked' }),
    rateLimit: RateLimitSchema.optional().meta({
      description: 'This key’s rate limit; without it, the services’ default (`API_KEY_RATE_LIMIT` per `API_KEY_RATE_WINDOW_SECONDS`)',
    }),
  })
  .meta({ id: 'CreateApiKey' });
export type CreateApiKey = z.output<typeof CreateApiKeySchema>;

export const ApiKeySummarySchema = z
  .object({
    keyId: z.string(),
    name: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    createdAt: z.string(),
    createdBy: z.string(),
    expiresAt: z.string().optional(),
    rateLimit: RateLimitSchema.optional(),
    revokedAt: z.string().optional(),
    revokedBy: z.string().optional(),
  })
  .meta({ id: 'ApiKeySummary' });
export type ApiKeySummary = z.infer<typeof ApiKeySummarySchema>;

export const CreatedApiKeySchema = ApiKeySummarySchema.extend({
  key: z.string().meta({ description: 'The key itself: shown this once, never stored; send it as `Authorization: Bearer <key>`' }),
}).meta({ id: 'CreatedApiKey' });
export type CreatedApiKey = z.infer<typeof CreatedApiKeySchema>;
