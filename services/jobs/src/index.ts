export { startJobs, type JobsService } from './service';
export { loadJobsConfig, JobsEnv, type JobsConfig } from './config';
export { handlers } from './handlers';
export type { Handler, Handlers, JobContext, JobEntry, JobsDeps } from './handler';
export { dispatch, kindOf } from './workers';
export { refreshProfiles, type RefreshReport } from './handlers/refresh';
export { applyRetention } from './handlers/retention';
export { sweepExpired } from './handlers/export-sweep';
export { reconcileSegment, mismatchQuery, type ReconcileReport } from './reconcile';
