import { Router } from 'express';
import { IdSchema, ProfileSearchParams, parseOrThrow } from '@portrait/shared';
import type { Profiles } from './profiles';

export function queryRoutes(profiles: Profiles): Router {
  const router = Router();

  router.get('/v1/users/:id/profile', async (req, res) => {
    res.json(await profiles.get(parseOrThrow(IdSchema, req.params.id, 'user id', ['params', 'id'])));
  });

  router.get('/v1/profiles/search', async (req, res) => {
    res.json(await profiles.search(parseOrThrow(ProfileSearchParams, req.query, 'search parameters', ['query'])));
  });

  return router;
}
