import { Counter, Histogram, exportMetrics, segmentChangesCounter, type ExportMetrics, type Registry } from '@portrait/runtime';

export interface JobsMetrics {
  /** Runs by job kind and outcome: `completed`, `failed` (retried while attempts remain), `invalid` (never retried), `requeued` (put back by a shutdown). */
  runs: Counter<'job' | 'outcome'>;
  seconds: Histogram<'job'>;
  segmentChanges: Counter<'source'>;
  refreshed: Counter;
  /** Model versions stored, by kind. */
  modelsTrained: Counter<'kind'>;
  exports: ExportMetrics;
}

export function jobsMetrics(registry: Registry): JobsMetrics {
  return {
    runs: new Counter({
      name: 'portrait_jobs_total',
      help: 'Batch jobs run, by job and outcome',
      labelNames: ['job', 'outcome'],
      registers: [registry],
    }),
    seconds: new Histogram({
      name: 'portrait_job_seconds',
      help: 'Duration of batch jobs, by job',
      labelNames: ['job'],
      buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1200, 3600],
      registers: [registry],
    }),
    segmentChanges: segmentChangesCounter(registry),
    // The names these had when the indexer ran them.
    refreshed: new Counter({
      name: 'portrait_indexer_profiles_refreshed_total',
      help: 'Profiles whose time-relative fields were recomputed',
      registers: [registry],
    }),
    modelsTrained: new Counter({
      name: 'portrait_models_trained_total',
      help: 'Model versions trained and stored, by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    exports: exportMetrics(registry),
  };
}
