import { z } from 'zod';
import { ApiKeySummarySchema, CreateApiKeySchema, CreatedApiKeySchema, type ApiKeySummary } from '../auth/keys';
import { json, type ApiRoute } from './route';

/** API keys: created (shown once), listed and revoked by an `admin` key, or by `npm run keys` with Redis access. */

export const ApiKeyParams = z.object({
  keyId: z
    .string()
    .regex(/^[0-9a-f]{16}$/, 'is 16 lowercase hex characters (the id part of ptk_<id>_<secret>)')
    .meta({ description: 'The key id' }),
});

export const ApiKeyListSchema = z.object({ keys: z.array(ApiKeySummarySchema) }).meta({ id: 'ApiKeyList' });

const summary: ApiKeySummary = {
  keyId: '3f9c0a51d2e84b17',
  name: 'storefront',
  scopes: ['read'],
  createdAt: '2026-12-02T10:00:00.000Z',
  createdBy: 'ops',
  expiresAt: '2027-03-02T10:00:00.000Z',
};

export const KEY_ROUTES: readonly ApiRoute[] = [
  {
    method: 'post',
    path: '/v1/keys',
    tag: 'keys',
    scope: 'admin',
    summary: 'Create an API key with scopes, optionally expiring; the key is in this answer only',
    request: { body: { content: { 'application/json': { schema: CreateApiKeySchema } } } },
    responses: {
      201: {
        description: 'Created: store `key` now, it is never shown again',
        content: json(CreatedApiKeySchema, {
          created: {
            summary: 'A read key',
            value: { ...summary, key: 'ptk_3f9c0a51d2e84b17_q3JkC0h1e9m2V7yXo4nB8wZ5tA6sD1fG2hJ3kL4mN5p' },
          },
        }),
      },
    },
    errors: [400, 413, 415, 503],
  },
  {
    method: 'get',
    path: '/v1/keys',
    tag: 'keys',
    scope: 'admin',
    summary: 'Every API key, revoked and expired ones included, without their secrets',
    responses: {
      200: {
        description: 'The keys, oldest first',
        content: json(ApiKeyListSchema, { keys: { summary: 'One key', value: { keys: [summary] } } }),
      },
    },
    errors: [503],
  },
  {
    method: 'delete',
    path: '/v1/keys/:keyId',
    tag: 'keys',
    scope: 'admin',
    summary: 'Revoke an API key: refused at once by every process',
    request: { params: ApiKeyParams },
    responses: {
      200: {
        description: 'Revoked (revoking a revoked key changes nothing)',
        content: json(ApiKeySummarySchema, {
          revoked: { summary: 'Revoked', value: { ...summary, revokedAt: '2026-12-03T09:00:00.000Z', revokedBy: 'ops' } },
        }),
      },
    },
    errors: [400, 404, 503],
  },
];
