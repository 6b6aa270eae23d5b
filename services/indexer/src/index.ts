export { startIndexer, profileOptions, type IndexerService } from './service';
export { loadIndexerConfig, IndexerEnv, type IndexerConfig } from './config';
export { refreshProfiles, type RefreshReport } from './refresh';
export { applyRetention } from './retention';
export { reconcileSegment, mismatchQuery, type ReconcileReport } from './reconcile';
export { SegmentRegistry, type Membership } from './segment-registry';
