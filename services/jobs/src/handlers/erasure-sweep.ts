import type { Handler } from '../handler';

/**
 * The second pass of an erasure, queued by it with a delay: removes what a write in flight during the first
 * pass left behind (a batch the indexer had read before the tombstone, a job a worker held), and notes it on
 * the erasure's audit record.
 */
export const erasureSweep: Handler<'erasureSweep'> = async ({ data, deps }) => {
  const swept = await deps.eraser.sweep(data.erasureId, data.userId, Date.now());
  return { swept };
};
