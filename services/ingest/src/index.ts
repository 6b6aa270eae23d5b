export { startIngest, type IngestService } from './service';
export { loadIngestConfig, IngestEnv, type IngestConfig } from './config';
