import type { ExportAudit, ExportFiles, Logger } from '@portrait/runtime';
import type { Handler } from '../handler';

/** A partial file nobody wrote to for this long (or the TTL, if longer) belongs to a process that died. */
const STALE_PARTIAL_MS = 3_600_000;

export interface SweepOptions {
  audit: ExportAudit;
  files: ExportFiles;
  ttlMs: number;
  logger: Logger;
  nowMs: number;
}

/** Deletes the files of completed exports past their expiry (status `expired`), and stale partial files. */
export async function sweepExpired(options: SweepOptions): Promise<{ expired: string[]; partials: string[] }> {
  const { audit, files, logger } = options;
  const expired: string[] = [];
  for (const record of await audit.expired(options.nowMs)) {
    if (record.fileName) await files.remove(record.fileName);
    const moved = await audit.transition(record.exportId, ['completed'], { status: 'expired' });
    if (moved.ok) expired.push(record.exportId);
  }
  const partials = await files.removeStalePartials(Math.max(options.ttlMs, STALE_PARTIAL_MS), options.nowMs);
  if (expired.length > 0 || partials.length > 0) logger.info({ expired, partials }, 'expired export files deleted');
  return { expired, partials };
}

/** The periodic sweep of expired export files. */
export const exportSweep: Handler<'exportSweep'> = ({ deps }) =>
  sweepExpired({
    audit: deps.audit,
    files: deps.files,
    ttlMs: deps.config.EXPORT_TTL_HOURS * 3_600_000,
    logger: deps.logger,
    nowMs: Date.now(),
  });
