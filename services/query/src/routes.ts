import { Router } from 'express';
import { IdSchema, ProfileSearchParams, ValidationError, toIssues } from '@portrait/shared';
import type { Profiles } from './profiles';

export function queryRoutes(profiles: Profiles): Router {
  const router = Router();

  router.get('/v1/users/:id/profile', async (req, res) => {
    const id = IdSchema.safeParse(req.params.id);
    if (!id.success) throw new ValidationError('invalid user id', toIssues(id.error, ['params', 'id']));
    res.json(await profiles.get(id.data));
  });

  router.get('/v1/profiles/search', async (req, res) => {
    const params = ProfileSearchParams.safeParse(req.query);
    if (!params.success) throw new ValidationError('invalid search parameters', toIssues(params.error, ['query']));
    res.json(await profiles.search(params.data));
  });

  return router;
}
