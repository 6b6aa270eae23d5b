import { runService } from '@portrait/runtime';
import { loadQueryConfig } from './config';
import { startQuery } from './service';

runService({ name: 'query', loadConfig: loadQueryConfig, start: startQuery });
