export { createExportsQueue, type ExportQueueData, type ExportsQueue } from '@portrait/runtime';

/** Progress reported by a running export job. */
export interface ExportProgress {
  rows: number;
  total: number;
}

/** Redis key that asks a running export job to stop at its next page. */
export function cancelKey(prefix: string, exportId: string): string {
  return `${prefix}:exports:cancel:${exportId}`;
}

/** How long a cancel request is kept: longer than any export runs. */
export const CANCEL_KEY_TTL_SECONDS = 7 * 86_400;
