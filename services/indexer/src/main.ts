import { runService } from '@portrait/runtime';
import { loadIndexerConfig } from './config';
import { startIndexer } from './service';

// Batches in flight finish before exit; give them longer than a bulk request can take.
runService({ name: 'indexer', loadConfig: loadIndexerConfig, start: startIndexer, graceMs: 90_000 });
