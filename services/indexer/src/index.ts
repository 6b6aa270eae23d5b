export { startIndexer, profileOptions, type IndexerService } from './service';
export { loadIndexerConfig, IndexerEnv, type IndexerConfig } from './config';
export { refreshProfiles, type RefreshReport } from './refresh';
export { applyRetention } from './retention';
