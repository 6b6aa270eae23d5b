export { exportRoutes } from './routes';
export { ExportJobs } from './jobs';
