import { z } from 'zod';
import { IdSchema } from '../events';
import { EXPORT_FIELD_NAMES } from '../exports/fields';
import { EXPORT_STATUSES, ExportRecordSchema } from '../exports/record';
import { ExportRequestSchema } from '../exports/request';
import { json, type ApiRoute } from './route';

/** The audience export routes' HTTP contract (query service). */

/** Who is exporting. Required on every call that exports or removes data; API keys will replace it. */
export const ACTOR_HEADER = 'x-portrait-actor';

export const ActorSchema = z
  .string({
    error: (i) => (i.input === undefined ? `is required: name who is exporting, e.g. ${ACTOR_HEADER}: alice` : 'must be given once'),
  })
  .trim()
  .min(1, `must not be empty: name who is exporting, e.g. ${ACTOR_HEADER}: alice`)
  .max(200, 'must be at most 200 characters')
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters')
  // The same set written out: the generator would keep the regex's flag in the pattern, and not every
  // JSON Schema validator knows \p{Cc}.
  .meta({ description: 'Who is exporting: written to the audit record', pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]*$' });

export const ExportListQuery = z.strictObject({
  segmentId: IdSchema.optional(),
  status: z.enum(EXPORT_STATUSES).optional(),
  actor: z.string().min(1).max(200).optional(),
  size: z.coerce.number().int().min(1).max(500).default(50),
});

const Field = z.enum(EXPORT_FIELD_NAMES);

const Links = {
  statusUrl: z.string().optional().meta({ description: 'Jobs only' }),
  downloadUrl: z.string().optional().meta({ description: 'Jobs only' }),
};

/** A record with, for jobs, the links to poll and download. */
export const ExportListed = ExportRecordSchema.safeExtend(Links).meta({ id: 'ExportListed' });

export const ExportStatusAnswer = ExportRecordSchema.safeExtend({
  ...Links,
  progress: z.object({ rows: z.number().int(), total: z.number().int().optional(), percent: z.number().optional() }),
  cancelRequested: z.boolean().optional().meta({ description: 'A cancel was asked for and the running job has not stopped yet' }),
  erasedUsers: z
    .number()
    .int()
    .optional()
    .meta({ description: 'Users erased after this file was written whose rows it holds: delete the file, or export again' }),
}).meta({ id: 'ExportStatus' });

export const ExportStarted = z
  .object({
    exportId: z.string(),
    status: z.enum(EXPORT_STATUSES),
    segmentId: IdSchema,
    segmentVersion: z.number().int(),
    columns: z.array(Field),
    statusUrl: z.string(),
    downloadUrl: z.string(),
  })
  .meta({ id: 'ExportStarted' });

const ActorHeaders = z.object({ [ACTOR_HEADER]: ActorSchema });
const FileHeaders = z.object({
  'content-disposition': z.string().meta({ description: 'attachment; filename="…"' }),
  'x-portrait-export-id': z.string(),
  'x-portrait-row-count': z.string().meta({ description: 'Rows in the file' }),
  'x-portrait-segment-version': z.string(),
  'x-portrait-snapshot-at': z.string().optional().meta({ description: 'The instant members and values are taken at' }),
});
const fileContent = {
  'text/csv': {
    schema: z.string(),
    examples: {
      csv: { summary: 'CSV', value: 'userId,emailSha256\nalice,2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90\n' },
    },
  },
  'application/x-ndjson': {
    schema: z.string(),
    examples: {
      ndjson: {
        summary: 'NDJSON',
        value: '{"userId":"alice","emailSha256":"2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90"}\n',
      },
    },
  },
};

const request = { fields: ['userId', 'emailSha256'], consent: 'ads', hashIdentifiers: true };
const record = {
  exportId: '5b0f7c2e-3a55-4c0e-9a43-0a4f3c9e8d11',
  kind: 'job',
  status: 'completed',
  actor: 'alice',
  segmentId: 'lapsing-buyers',
  segmentName: 'Lapsing buyers',
  segmentVersion: 1,
  definition: { field: 'purchases.orders', op: 'range', gte: 2 },
  format: 'csv',
  fields: ['userId', 'emailSha256'],
  columns: ['userId', 'emailSha256'],
  consent: ['ads'],
  hashIdentifiers: true,
  containsContactData: true,
  snapshotAt: '2026-11-23T10:00:01.000Z',
  total: 1204,
  rows: 1204,
  createdAt: '2026-11-23T10:00:00.000Z',
  startedAt: '2026-11-23T10:00:01.000Z',
  finishedAt: '2026-11-23T10:00:03.000Z',
  expiresAt: '2026-11-24T10:00:03.000Z',
  updatedAt: '2026-11-23T10:00:03.000Z',
};
const links = { statusUrl: `/v1/exports/${record.exportId}`, downloadUrl: `/v1/exports/${record.exportId}/download` };
const ExportParams = z.object({ exportId: IdSchema.meta({ description: 'The export id' }) });
const SegmentParams = z.object({ id: IdSchema.meta({ description: 'The segment id' }) });
const exportBody = {
  content: json(ExportRequestSchema, { hashed: { summary: 'Hashed e-mails of members who consented to ads', value: request } }),
};

export const EXPORT_ROUTES: readonly ApiRoute[] = [
  {
    method: 'post',
    path: '/v1/segments/:id/export',
    tag: 'exports',
    scope: 'export',
    summary: "Stream a segment's members as CSV or NDJSON",
    description:
      'One point-in-time snapshot, written as it is read. Refused (`413 too_large`) before anything is written when the ' +
      'audience is larger than `EXPORT_STREAM_MAX_ROWS`: start an export job instead.',
    request: { params: SegmentParams, headers: ActorHeaders, body: exportBody },
    responses: { 200: { description: 'The file', headers: FileHeaders, content: fileContent } },
    errors: [400, 404, 413, 415, 503],
  },
  {
    method: 'post',
    path: '/v1/segments/:id/exports',
    tag: 'exports',
    scope: 'export',
    summary: 'Start an export job',
    description: 'A jobs worker writes the file from one snapshot; poll the status, then download it.',
    request: { params: SegmentParams, headers: ActorHeaders, body: exportBody },
    responses: {
      202: {
        description: 'Queued',
        headers: z.object({ location: z.string().meta({ description: 'The status URL' }) }),
        content: json(ExportStarted, {
          queued: {
            summary: 'Queued',
            value: {
              exportId: record.exportId,
              status: 'queued',
              segmentId: 'lapsing-buyers',
              segmentVersion: 1,
              columns: record.columns,
              ...links,
            },
          },
        }),
      },
    },
    errors: [400, 404, 413, 415, 503],
  },
  {
    method: 'get',
    path: '/v1/exports',
    tag: 'exports',
    scope: 'export',
    summary: 'The audit trail of exports, newest first',
    request: { query: ExportListQuery },
    responses: {
      200: {
        description: 'Export records',
        content: json(z.object({ exports: z.array(ExportListed) }), {
          one: { summary: 'One job', value: { exports: [{ ...record, ...links }] } },
        }),
      },
    },
    errors: [400, 503],
  },
  {
    method: 'get',
    path: '/v1/exports/:exportId',
    tag: 'exports',
    scope: 'export',
    summary: "An export's record and progress",
    request: { params: ExportParams },
    responses: {
      200: {
        description: 'The record with its progress',
        content: json(ExportStatusAnswer, {
          done: { summary: 'Completed', value: { ...record, ...links, progress: { rows: 1204, total: 1204, percent: 100 } } },
        }),
      },
    },
    errors: [400, 404, 503],
  },
  {
    method: 'get',
    path: '/v1/exports/:exportId/download',
    tag: 'exports',
    scope: 'export',
    summary: "Download an export job's file",
    description: '`409` while it is not ready (or never will be: failed, cancelled, streamed); `410` once it expired or was deleted.',
    request: { params: ExportParams, headers: ActorHeaders },
    responses: { 200: { description: 'The file', headers: FileHeaders, content: fileContent } },
    errors: [400, 404, 409, 410, 503],
  },
  {
    method: 'delete',
    path: '/v1/exports/:exportId',
    tag: 'exports',
    scope: 'export',
    summary: 'Cancel an export job, or delete its file',
    request: { params: ExportParams, headers: ActorHeaders },
    responses: {
      200: {
        description: 'Cancelled, or its file deleted',
        content: json(ExportStatusAnswer, {
          deleted: {
            summary: 'File deleted',
            value: { ...record, ...links, status: 'deleted', deletedBy: 'alice', progress: { rows: 1204, total: 1204, percent: 100 } },
          },
        }),
      },
      202: { description: 'Asked to cancel; the running job stops at its next page', content: json(ExportStatusAnswer) },
    },
    errors: [400, 404, 409, 503],
  },
];
