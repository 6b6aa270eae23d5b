import { Router } from 'express';
import { ModelJobParams, ModelKindParams, ModelListQuery, ModelVersionParams, parseOrThrow, RulesQuery } from '@portrait/shared';
import { jsonBody } from '@portrait/runtime';
import type { Insights } from './insights';
import type { Models } from './models';

export function modelRoutes(models: Models, insights: Insights): Router {
  const router = Router();

  router.get('/v1/models', async (req, res) => {
    const { kind } = parseOrThrow(ModelListQuery, req.query, 'model list parameters', ['query']);
    res.json({ models: await models.list(kind) });
  });

  router.post('/v1/models/:kind/train', ...jsonBody('16kb'), async (req, res) => {
    const { kind } = parseOrThrow(ModelKindParams, req.params, 'model kind', ['params']);
    const started = await models.train(kind, req.body);
    res.status(202).location(started.statusUrl).json(started);
  });

  router.get('/v1/models/:kind/train/:jobId', async (req, res) => {
    const { kind, jobId } = parseOrThrow(ModelJobParams, req.params, 'training job', ['params']);
    res.json(await models.trainStatus(kind, jobId));
  });

  router.get('/v1/models/:kind/:version', async (req, res) => {
    const { kind, version } = parseOrThrow(ModelVersionParams, req.params, 'model version', ['params']);
    res.json(await models.get(kind, version));
  });

  router.post('/v1/models/:kind/:version/promote', async (req, res) => {
    const { kind, version } = parseOrThrow(ModelVersionParams, req.params, 'model version', ['params']);
    res.json(await models.promote(kind, version));
  });

  router.get('/v1/insights/rfm', async (_req, res) => {
    res.json(await insights.rfm());
  });

  router.get('/v1/insights/clusters', async (_req, res) => {
    res.json(await insights.clusters());
  });

  router.get('/v1/insights/rules', async (req, res) => {
    res.json(await insights.rules(parseOrThrow(RulesQuery, req.query, 'rules parameters', ['query'])));
  });

  return router;
}
