import { runService } from '@portrait/runtime';
import { loadJobsConfig } from './config';
import { startJobs } from './service';

// A running export puts itself back on the queue at its next page; other jobs finish (or are handed on once their lock lapses).
runService({ name: 'jobs', loadConfig: loadJobsConfig, start: startJobs, graceMs: 90_000 });
