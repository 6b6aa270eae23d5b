export { Recommender, type RecommenderOptions } from './recommender';
export { ServedModelCache } from './served-models';
export { recommendationRoutes } from './routes';
