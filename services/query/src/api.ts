import {
  CONSOLE_ROUTES,
  ERASURE_ROUTES,
  EXPORT_ROUTES,
  INSIGHT_ROUTES,
  KEY_ROUTES,
  MODEL_ROUTES,
  PROFILE_ROUTES,
  RECOMMENDATION_ROUTES,
  segmentApiRoutes,
  type ApiDescription,
} from '@portrait/shared';
import { BreakdownQuery } from './segments/routes';

/** The query service's routes, as its OpenAPI document describes them. */
export const QUERY_API: ApiDescription = {
  title: 'Portrait query',
  description:
    'Profiles by id and by search, segments and their live analytics, audience exports, models and insights, recommendations, API keys, erasure, and the console page that uses them.',
  routes: [
    ...PROFILE_ROUTES,
    ...segmentApiRoutes(BreakdownQuery),
    ...EXPORT_ROUTES,
    ...MODEL_ROUTES,
    ...INSIGHT_ROUTES,
    ...RECOMMENDATION_ROUTES,
    ...KEY_ROUTES,
    ...ERASURE_ROUTES,
    ...CONSOLE_ROUTES,
  ],
};
