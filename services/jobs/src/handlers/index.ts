import type { Handlers } from '../handler';
import { erasureSweep } from './erasure-sweep';
import { exportRun } from './export-run';
import { exportSweep } from './export-sweep';
import { itemVectorize } from './item-vectorize';
import { modelRescore } from './model-rescore';
import { modelRetrain } from './model-retrain';
import { modelTrain } from './model-train';
import { refresh } from './refresh';
import { retention } from './retention';
import { segmentBackfill } from './segment-backfill';
import { segmentReconcile } from './segment-reconcile';
import { segmentSnapshot } from './segment-snapshot';

const DAY_MS = 86_400_000;

/**
 * Every job the jobs process runs, by its kind in shared's `JOBS` (which names its queue, job name and payload
 * schema). A new job is its `JOBS` entry, its handler file in this folder, and its line here.
 */
export const handlers = {
  refresh: { run: refresh, every: (config) => config.REFRESH_EVERY_MS },
  retention: { run: retention, every: () => DAY_MS },
  segmentBackfill: { run: segmentBackfill },
  segmentReconcile: { run: segmentReconcile, every: (config) => config.SEGMENT_RECONCILE_EVERY_MS },
  segmentSnapshot: { run: segmentSnapshot, every: (config) => config.SEGMENT_SNAPSHOT_EVERY_MS },
  erasureSweep: { run: erasureSweep },
  exportRun: { run: exportRun },
  exportSweep: { run: exportSweep, every: (config) => config.EXPORT_SWEEP_EVERY_MS, schedulerId: 'export-sweep' },
  modelTrain: { run: modelTrain },
  modelRescore: { run: modelRescore },
  itemVectorize: { run: itemVectorize },
  modelRetrain: { run: modelRetrain, every: (config) => config.MODEL_TRAIN_EVERY_MS },
} satisfies Handlers;
