export { modelRoutes } from './routes';
export { Models } from './models';
export { Insights, ruleText } from './insights';
