export { exportRoutes, ACTOR_HEADER } from './routes';
export { ExportJobs } from './jobs';
