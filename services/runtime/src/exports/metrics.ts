import { Counter, Histogram, type Registry } from '../metrics';

export interface ExportMetrics {
  exports: Counter<'kind' | 'format' | 'outcome'>;
  rows: Counter<'kind'>;
  seconds: Histogram<'kind'>;
}

export function exportMetrics(registry: Registry): ExportMetrics {
  return {
    exports: new Counter({
      name: 'portrait_exports_total',
      help: 'Audience exports by kind (stream, job), format and outcome (completed, failed, cancelled, refused)',
      labelNames: ['kind', 'format', 'outcome'],
      registers: [registry],
    }),
    rows: new Counter({
      name: 'portrait_export_rows_total',
      help: 'Rows written by audience exports',
      labelNames: ['kind'],
      registers: [registry],
    }),
    seconds: new Histogram({
      name: 'portrait_export_seconds',
      help: 'Duration of audience exports, snapshot to last row',
      labelNames: ['kind'],
      buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1200, 3600],
      registers: [registry],
    }),
  };
}
