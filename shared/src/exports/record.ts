import { z } from 'zod';
import { IdSchema } from '../events';
import { EXPORT_FIELD_NAMES } from './fields';
import { EXPORT_CONSENTS, EXPORT_FORMATS } from './request';

/**
 * `queued` → `running` → `completed` → (`expired` | `deleted`), or `failed` / `cancelled`. Streamed exports
 * go `running` → `completed` (or `cancelled` when the client hung up, `failed`).
 */
export const EXPORT_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled', 'expired', 'deleted'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];
export const EXPORT_KINDS = ['stream', 'job'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

const at = () => z.iso.datetime();
const Field = z.enum(EXPORT_FIELD_NAMES);

/**
 * One export: the audit record and, for jobs, their status. Stored in `<prefix>-exports`, written by the
 * query service and the jobs process, and returned by the API as it is.
 */
export const ExportRecordSchema = z
  .object({
    exportId: z.string(),
    kind: z.enum(EXPORT_KINDS),
    status: z.enum(EXPORT_STATUSES),
    /** Who asked (`x-portrait-actor`). */
    actor: z.string(),
    requestId: z.string().optional(),
    segmentId: IdSchema,
    segmentName: z.string(),
    segmentVersion: z.number().int(),
    definition: z.unknown().meta({ description: 'The definition the export used, as it was at that version' }),
    format: z.enum(EXPORT_FORMATS),
    fields: z.array(Field).meta({ description: 'The fields asked for' }),
    columns: z.array(Field).meta({ description: 'The columns written (hashing replaces raw e-mail and phone)' }),
    consent: z.array(z.enum(EXPORT_CONSENTS)),
    hashIdentifiers: z.boolean(),
    defaultCallingCode: z.string().optional(),
    containsContactData: z.boolean(),
    snapshotAt: at().optional().meta({ description: 'Members and values are as of this instant' }),
    total: z.number().int().optional().meta({ description: 'Members at the snapshot' }),
    rows: z.number().int().meta({ description: 'Rows written so far (all of them once completed)' }),
    fileName: z.string().optional(),
    fileBytes: z.number().int().optional(),
    error: z.string().optional(),
    attempts: z.number().int().optional(),
    cancelledBy: z.string().optional(),
    deletedBy: z.string().optional(),
    lastDownloadedBy: z.string().optional(),
    lastDownloadedAt: at().optional(),
    createdAt: at(),
    startedAt: at().optional(),
    finishedAt: at().optional(),
    expiresAt: at().optional(),
    updatedAt: at(),
  })
  .meta({ id: 'ExportRecord' });
export type ExportRecord = z.infer<typeof ExportRecordSchema>;

/** States an export never leaves. */
export const FINAL_STATUSES: readonly ExportStatus[] = ['completed', 'failed', 'cancelled', 'expired', 'deleted'];
