export { startIndexer, profileOptions, type IndexerService } from './service';
export { loadIndexerConfig, IndexerEnv, type IndexerConfig } from './config';
