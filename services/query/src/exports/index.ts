export { exportRoutes } from './routes';
export { ExportAudit } from './audit';
export { ExportFiles } from './files';
export { ExportJobs } from './jobs';
export { exportMetrics } from './metrics';
export { createExportsQueue, type ExportsQueue } from './queue';
export { startExportWorker, sweepExpired } from './worker';
export type { ExportRecord, ExportStatus } from './record';
