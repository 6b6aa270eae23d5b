/** Index, alias and queue names, all derived from one prefix so test runs and tenants never collide. */

export interface IndexNames {
  /** Read/write alias of the profile index. */
  profiles: string;
  /** Read alias spanning every monthly event index. */
  events: string;
  /** Read/write alias of the item catalogue index. */
  items: string;
  /** Read/write alias of the segment definitions index. */
  segments: string;
  /** Read/write alias of the audience export audit trail (one document per export, with its status). */
  exports: string;
  /** Read/write alias of the trained models: one document per kind and version. */
  models: string;
  /** Read/write alias of the erasure audit trail: one document per erased user, who asked and what was removed. */
  erasures: string;
  /** Read/write alias of the segment size snapshots: one document per segment per snapshot (the segment-snapshot job). */
  segmentSizes: string;
  /** Alias of the active collaborative model's item factors; each model version has its own index. */
  itemFactors: string;
  /** Alias of the active collaborative model's user factors. */
  userFactors: string;
  /** The index holding the item factors of one collaborative training run (`run` is lower case, `[a-z0-9]`). */
  itemFactorsOf(run: string): string;
  userFactorsOf(run: string): string;
  /** Pattern matching every item and user factors index. */
  factorsPattern: string;
  /** Pattern matching every user factors index. */
  userFactorsPattern: string;
  /** Pattern matching every monthly event index, for templates and retention. */
  eventsPattern: string;
  /** The concrete monthly index an event with this timestamp belongs to. */
  eventsIndexFor(timestampMs: number): string;
}

export function indexNames(prefix: string): IndexNames {
  return {
    profiles: `${prefix}-profiles`,
    events: `${prefix}-events`,
    items: `${prefix}-items`,
    segments: `${prefix}-segments`,
    exports: `${prefix}-exports`,
    models: `${prefix}-models`,
    erasures: `${prefix}-erasures`,
    segmentSizes: `${prefix}-segment-sizes`,
    itemFactors: `${prefix}-item-factors`,
    userFactors: `${prefix}-user-factors`,
    itemFactorsOf: (run) => `${prefix}-item-factors-${run}`,
    userFactorsOf: (run) => `${prefix}-user-factors-${run}`,
    factorsPattern: `${prefix}-*-factors-*`,
    userFactorsPattern: `${prefix}-user-factors-*`,
    eventsPattern: `${prefix}-events-*`,
    eventsIndexFor(timestampMs: number): string {
      const d = new Date(timestampMs);
      const month = String(d.getUTCMonth() + 1).padStart(2, '0');
      return `${prefix}-events-${d.getUTCFullYear()}.${month}`;
    },
  };
}

/** Parses the month out of a monthly event index name; undefined for anything else. */
export function eventsIndexMonth(prefix: string, index: string): { year: number; month: number } | undefined {
  const m = new RegExp(`^${escapeRegExp(prefix)}-events-(\\d{4})\\.(\\d{2})$`).exec(index);
  if (!m) return undefined;
  return { year: Number(m[1]), month: Number(m[2]) };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface QueueNames {
  /** Events, attribute updates and item upserts, in batches. */
  ingest: string;
  /** Batches (or parts of batches) that could not be applied, with the reason. */
  deadLetter: string;
  /** Repeatable maintenance: profile refresh, event retention, segment backfill and reconciliation. */
  maintenance: string;
  /** Segment entries and exits, for marketing tools to consume (job name `entered` or `exited`). */
  segmentChanges: string;
  /** Audience export jobs, and the periodic sweep of expired export files. */
  exports: string;
  /** Model training and the re-scoring of every profile after a promotion. */
  models: string;
}

export function queueNames(): QueueNames {
  return {
    ingest: 'ingest',
    deadLetter: 'dead-letter',
    maintenance: 'maintenance',
    segmentChanges: 'segment-changes',
    exports: 'exports',
    models: 'models',
  };
}

/** Job names inside the ingest queue. */
export const JobName = {
  events: 'events',
  items: 'items',
} as const;

/** Job names inside the maintenance queue. */
export const MaintenanceJob = {
  refresh: 'refresh-profiles',
  retention: 'event-retention',
  /** Brings one segment's materialized membership in line with its definition (data: `{ segmentId }`). */
  segmentBackfill: 'segment-backfill',
  /** Reconciles every segment: relative-time conditions move as time passes. */
  segmentReconcile: 'segment-reconcile',
  /** The second pass of an erasure, once writes in flight when it ran have landed (data: `{ erasureId, userId }`). */
  erasureSweep: 'erasure-sweep',
  /** Records every active segment's member count (`<prefix>-segment-sizes`), for sizes over time. */
  segmentSnapshot: 'segment-snapshot',
} as const;

/** Job names inside the exports queue. */
export const ExportJob = {
  /** Writes one export file (data: `{ exportId }`). */
  run: 'export',
  /** Deletes export files past their expiry. */
  sweep: 'sweep-expired',
} as const;

/** Job names inside the models queue. */
export const ModelJob = {
  /** Trains one kind of model and stores it as its next version (data: `{ kind, seed?, promote?, parameters? }`). */
  train: 'train',
  /** Re-scores every profile not yet scored by a kind's active version (data: `{ kind, version }`). */
  rescore: 'rescore',
  /** Gives every item a content vector from the content model's active version (data: `{ version }`). */
  vectorize: 'vectorize-items',
  /** Queues the training of every kind, on a schedule. */
  retrain: 'retrain-all',
} as const;

/** Redis key bumped on every segment save or delete, so profile writers reload definitions at their next write. */
export function segmentsGenerationKey(namespace: string): string {
  return `${namespace}:segments:generation`;
}

/** Redis key bumped on every model promotion, so profile writers reload the active models at their next write. */
export function modelsGenerationKey(namespace: string): string {
  return `${namespace}:models:generation`;
}

/** Redis key that asks a running export job to stop at its next page. */
export function exportCancelKey(namespace: string, exportId: string): string {
  return `${namespace}:exports:cancel:${exportId}`;
}
