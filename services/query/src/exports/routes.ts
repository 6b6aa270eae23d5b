import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import {
  ExportListQuery,
  IdSchema,
  ValidationError,
  parseExportRequest,
  parseOrThrow,
  planExport,
  type ExportRecord,
  type ExportRequest,
} from '@portrait/shared';
import { jsonBody } from '@portrait/runtime';
import type { SegmentStore } from '../segments';
import type { ExportJobs, ExportView } from './jobs';
import { streamExport, type StreamDeps, type StreamStart } from './stream';
import { actorIssues, requestId, requireActor } from '../actor';

/** The actor and the export request, with every issue of both in one 400. */
function exportInput(req: Request): { actor: string; request: ExportRequest } {
  const who = actorIssues(req);
  const body = parseExportRequest(req.body);
  const issues = [...who.issues, ...(body.ok ? [] : body.issues)];
  if (who.actor === undefined || !body.ok) throw new ValidationError('invalid export request', issues);
  return { actor: who.actor, request: body.value };
}

const param = (req: Request, name: string): string => parseOrThrow(IdSchema, req.params[name], name, ['params', name]);

const links = (exportId: string) => ({ statusUrl: `/v1/exports/${exportId}`, downloadUrl: `/v1/exports/${exportId}/download` });

function shape(view: ExportView | ExportRecord): Record<string, unknown> {
  return { ...view, ...(view.kind === 'job' ? links(view.exportId) : {}) };
}

function streamHeaders(res: Response, start: StreamStart): void {
  res.status(200);
  res.setHeader('content-type', start.contentType);
  res.setHeader('content-disposition', `attachment; filename="${start.fileName}"`);
  res.setHeader('cache-control', 'no-store');
  res.setHeader('x-portrait-export-id', start.exportId);
  res.setHeader('x-portrait-row-count', String(start.total));
  res.setHeader('x-portrait-segment-version', String(start.segmentVersion));
  res.setHeader('x-portrait-snapshot-at', start.snapshotAt);
}

export interface ExportRoutesDeps {
  store: SegmentStore;
  jobs: ExportJobs;
  stream: StreamDeps;
  /** `EXPORT_DEFAULT_CALLING_CODE`, unless the request names one. */
  defaultCallingCode?: string;
}

export function exportRoutes(deps: ExportRoutesDeps): Router {
  const router = Router();
  const body = jsonBody('64kb');

  router.post('/v1/segments/:id/export', ...body, async (req, res) => {
    const { actor, request } = exportInput(req);
    const plan = planExport(await deps.store.get(param(req, 'id')), request, deps.defaultCallingCode);
    await streamExport(deps.stream, plan, { actor, requestId: requestId(req) }, res, (start) => streamHeaders(res, start));
  });

  router.post('/v1/segments/:id/exports', ...body, async (req, res) => {
    const { actor, request } = exportInput(req);
    const plan = planExport(await deps.store.get(param(req, 'id')), request, deps.defaultCallingCode);
    const record = await deps.jobs.start(plan, { actor, requestId: requestId(req) });
    res.setHeader('location', links(record.exportId).statusUrl);
    res.status(202).json({
      exportId: record.exportId,
      status: record.status,
      segmentId: record.segmentId,
      segmentVersion: record.segmentVersion,
      columns: record.columns,
      ...links(record.exportId),
    });
  });

  router.get('/v1/exports', async (req, res) => {
    res.json({ exports: (await deps.jobs.list(parseOrThrow(ExportListQuery, req.query, 'query', ['query']))).map(shape) });
  });

  router.get('/v1/exports/:exportId', async (req, res) => {
    res.json(shape(await deps.jobs.status(param(req, 'exportId'))));
  });

  router.get('/v1/exports/:exportId/download', async (req, res) => {
    const file = await deps.jobs.download(param(req, 'exportId'), requireActor(req));
    const { record } = file;
    res.setHeader('content-type', file.contentType);
    res.setHeader('content-length', String(file.size));
    res.setHeader(
      'content-disposition',
      `attachment; filename="${record.segmentId}-v${record.segmentVersion}-${record.exportId}.${record.format}"`,
    );
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-portrait-export-id', record.exportId);
    res.setHeader('x-portrait-row-count', String(record.rows));
    res.setHeader('x-portrait-segment-version', String(record.segmentVersion));
    if (record.snapshotAt) res.setHeader('x-portrait-snapshot-at', record.snapshotAt);
    // A client that hangs up mid-download is not an error worth more than the access log.
    await pipeline(file.stream, res).catch(() => file.stream.destroy());
  });

  router.delete('/v1/exports/:exportId', async (req, res) => {
    const exportId = param(req, 'exportId');
    const { pending, view } = await deps.jobs.cancelOrDelete(exportId, requireActor(req));
    res.status(pending ? 202 : 200).json(shape(view));
  });

  return router;
}
