import { runService } from '@portrait/runtime';
import { loadIngestConfig } from './config';
import { startIngest } from './service';

runService({ name: 'ingest', loadConfig: loadIngestConfig, start: startIngest });
