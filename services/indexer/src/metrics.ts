import { Counter, Gauge, Histogram, segmentChangesCounter, type Registry } from '@portrait/runtime';

export function indexerMetrics(registry: Registry) {
  return {
    applied: new Counter({ name: 'portrait_indexer_events_applied_total', help: 'Events folded into profiles', registers: [registry] }),
    duplicates: new Counter({
      name: 'portrait_indexer_events_duplicate_total',
      help: 'Redelivered events skipped by the fold',
      registers: [registry],
    }),
    conflicts: new Counter({
      name: 'portrait_indexer_write_conflicts_total',
      help: 'Profile writes lost to a concurrent writer and redone',
      registers: [registry],
    }),
    retries: new Counter({
      name: 'portrait_indexer_batch_retries_total',
      help: 'Batches failed for a transient reason and retried',
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'portrait_indexer_dead_lettered_total',
      help: 'Events or items sent to the dead-letter queue',
      labelNames: ['stage'],
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'portrait_indexer_batch_seconds',
      help: 'Time to apply one batch (enrich, history write, profile bulk)',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    flushEvents: new Histogram({
      name: 'portrait_indexer_flush_events',
      help: 'Events applied per merged fold-and-write',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: [registry],
    }),
    lagSeconds: new Gauge({
      name: 'portrait_indexer_lag_seconds',
      help: 'Receive-to-applied delay of the newest event of the last batch',
      registers: [registry],
    }),
    erasedDropped: new Counter({
      name: 'portrait_indexer_erased_events_dropped_total',
      help: 'Events of erased users dropped, queued before their erasure',
      registers: [registry],
    }),
    segmentChanges: segmentChangesCounter(registry),
  };
}

export type IndexerMetrics = ReturnType<typeof indexerMetrics>;
