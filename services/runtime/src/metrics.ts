import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/** A registry per service (so in-process tests never share counters) with process metrics included. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'portrait_' });
  return registry;
}

/** Segment entries and exits published, by what caused them: `events` (the indexer), `backfill`, `reconcile`, `refresh` (the jobs). */
export function segmentChangesCounter(registry: Registry): Counter<'source'> {
  return new Counter({
    name: 'portrait_segment_changes_total',
    help: 'Segment entries and exits published',
    labelNames: ['source'],
    registers: [registry],
  });
}
