import { Router } from 'express';
import { ErasureListQuery, ErasureParams, parseOrThrow } from '@portrait/shared';
import type { Eraser } from '@portrait/runtime';
import { requestId, requireActor } from './actor';

/** `DELETE /v1/users/:id` and the erasure audit trail (`admin`). */
export function erasureRoutes(eraser: Eraser, now: () => number): Router {
  const router = Router();

  router.delete('/v1/users/:id', async (req, res) => {
    const actor = requireActor(req);
    const { id } = parseOrThrow(ErasureParams, req.params, 'user id', ['params']);
    res.json(await eraser.erase(id, { actor, requestId: requestId(req) }, now()));
  });

  router.get('/v1/erasures', async (req, res) => {
    const query = parseOrThrow(ErasureListQuery, req.query, 'erasure listing', ['query']);
    res.json({ erasures: await eraser.list(query) });
  });

  return router;
}
