export { ExportAudit } from './audit';
export { ExportFiles } from './files';
export { exportMetrics, type ExportMetrics } from './metrics';
export { Snapshot } from './snapshot';
export { writeOrWait, writeRows, type StopReason, type WalkOptions } from './write-rows';
export { ExportEnv, DEFAULT_EXPORT_DIR } from './config';
