import type { Writable } from 'node:stream';
import type { ExportEncoder, ExportFetch } from '@portrait/shared';
import type { Snapshot } from './snapshot';

/** Writes `chunk`, waiting for 'drain' when the destination is full; false once it was closed or failed. */
export function writeOrWait(out: Writable, chunk: string): Promise<boolean> {
  if (out.destroyed || out.writableEnded) return Promise.resolve(false);
  if (chunk.length === 0 || out.write(chunk)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      out.off('error', onClose);
      resolve(ok);
    };
    const onDrain = (): void => done(true);
    const onClose = (): void => done(false);
    out.once('drain', onDrain);
    out.once('close', onClose);
    out.once('error', onClose);
  });
}

export type StopReason = 'cancelled' | 'disconnected' | 'shutdown';

export interface WalkOptions {
  pageSize: number;
  /** Pause between pages (throttling). */
  pauseMs: number;
  fetch: ExportFetch;
  /** Asked before every page; a reason stops the walk. */
  shouldStop: () => Promise<StopReason | undefined> | StopReason | undefined;
  onPage?: (rows: number) => Promise<void> | void;
}

/** Writes the header and every member of the snapshot to `out`, page by page; does not end `out`. */
export async function writeRows(
  snapshot: Snapshot,
  encoder: ExportEncoder,
  out: Writable,
  options: WalkOptions,
): Promise<{ rows: number; stopped?: StopReason }> {
  let rows = 0;
  if (!(await writeOrWait(out, encoder.header()))) return { rows, stopped: 'disconnected' };
  let first = true;
  for await (const docs of snapshot.pages(options.pageSize, options.fetch)) {
    if (!first && options.pauseMs > 0) await new Promise((r) => setTimeout(r, options.pauseMs));
    first = false;
    const stop = await options.shouldStop();
    if (stop) return { rows, stopped: stop };
    if (!(await writeOrWait(out, encoder.rows(docs)))) return { rows, stopped: 'disconnected' };
    rows += docs.length;
    await options.onPage?.(rows);
  }
  return { rows };
}
