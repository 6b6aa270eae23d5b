import type { ExportField } from './fields';
import type { ExportConsent, ExportFormat } from './request';

/**
 * `queued` → `running` → `completed` → (`expired` | `deleted`), or `failed` / `cancelled`. Streamed exports
 * go `running` → `completed` (or `cancelled` when the client hung up, `failed`).
 */
export const EXPORT_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled', 'expired', 'deleted'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];
export type ExportKind = 'stream' | 'job';

/** One export: the audit record and, for jobs, their status. Stored in `<prefix>-exports`. */
export interface ExportRecord {
  exportId: string;
  kind: ExportKind;
  status: ExportStatus;
  /** Who asked (`x-portrait-actor`). */
  actor: string;
  requestId?: string;
  segmentId: string;
  segmentName: string;
  segmentVersion: number;
  /** The definition the export used, as it was at that version. */
  definition: unknown;
  format: ExportFormat;
  /** The fields asked for. */
  fields: ExportField[];
  /** The columns written (hashing replaces raw e-mail and phone). */
  columns: ExportField[];
  consent: ExportConsent[];
  hashIdentifiers: boolean;
  defaultCallingCode?: string;
  containsContactData: boolean;
  /** When the point in time was opened: members and values are as of this instant. */
  snapshotAt?: string;
  /** Members at the snapshot. */
  total?: number;
  /** Rows written so far (all of them once completed). */
  rows: number;
  fileName?: string;
  fileBytes?: number;
  error?: string;
  attempts?: number;
  cancelledBy?: string;
  deletedBy?: string;
  lastDownloadedBy?: string;
  lastDownloadedAt?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  expiresAt?: string;
  updatedAt: string;
}

/** States an export never leaves. */
export const FINAL_STATUSES: readonly ExportStatus[] = ['completed', 'failed', 'cancelled', 'expired', 'deleted'];
