import { Router } from 'express';
import {
  CtrQuery,
  ItemRecommendationQuery,
  parseOrThrow,
  RecommendationItemParams,
  RecommendationQuery,
  RecommendationUserParams,
} from '@portrait/shared';
import type { Client } from '@portrait/runtime';
import { recommendationCtr } from './feedback';
import type { Recommender } from './recommender';

export function recommendationRoutes(recommender: Recommender, feedback: { es: Client; events: string; now: () => number }): Router {
  const router = Router();

  router.get('/v1/users/:id/recommendations', async (req, res) => {
    const { id } = parseOrThrow(RecommendationUserParams, req.params, 'user id', ['params']);
    const query = parseOrThrow(RecommendationQuery, req.query, 'recommendation parameters', ['query']);
    res.json(await recommender.forUser(id, query));
  });

  router.get('/v1/items/:id/similar', async (req, res) => {
    const { id } = parseOrThrow(RecommendationItemParams, req.params, 'item id', ['params']);
    res.json(await recommender.similar(id, parseOrThrow(ItemRecommendationQuery, req.query, 'similar-item parameters', ['query'])));
  });

  router.get('/v1/items/:id/also-bought', async (req, res) => {
    const { id } = parseOrThrow(RecommendationItemParams, req.params, 'item id', ['params']);
    res.json(await recommender.alsoBought(id, parseOrThrow(ItemRecommendationQuery, req.query, 'also-bought parameters', ['query'])));
  });

  router.get('/v1/insights/recommendations', async (req, res) => {
    const { days } = parseOrThrow(CtrQuery, req.query, 'click-through parameters', ['query']);
    res.json(await recommendationCtr(feedback.es, feedback.events, days, feedback.now()));
  });

  return router;
}
