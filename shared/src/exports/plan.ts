import { compileSegment, definitionOrThrow, type EsQuery, type SegmentDefinition } from '../segments';
import {
  exportDocValueFields,
  exportSourcePaths,
  exportsContactData,
  resolveExportFields,
  type ExportContext,
  type ExportField,
} from './fields';
import { exportQuery, type ExportRequest } from './request';
import type { ExportKind, ExportRecord, ExportStatus } from './record';
import { exportEncoder, type ExportEncoder } from './rows';

/** Everything an export needs decided before it reads a profile. */
export interface ExportPlan {
  segmentId: string;
  segmentName: string;
  segmentVersion: number;
  definition: SegmentDefinition;
  request: ExportRequest;
  columns: ExportField[];
  context: ExportContext;
}

export function planExport(
  segment: { segmentId: string; name: string; version: number; definition: unknown },
  request: ExportRequest,
  defaultCallingCode?: string,
): ExportPlan {
  return {
    segmentId: segment.segmentId,
    segmentName: segment.name,
    segmentVersion: segment.version,
    definition: definitionOrThrow(segment.definition),
    request,
    columns: resolveExportFields(request.fields, request.hashIdentifiers),
    context: { defaultCallingCode: request.defaultCallingCode ?? defaultCallingCode },
  };
}

/** The plan of a recorded export, to run it later exactly as it was asked for. */
export function planOfRecord(record: ExportRecord): ExportPlan {
  return planExport(
    { segmentId: record.segmentId, name: record.segmentName, version: record.segmentVersion, definition: record.definition },
    {
      format: record.format,
      fields: record.fields,
      consent: record.consent,
      hashIdentifiers: record.hashIdentifiers,
      defaultCallingCode: record.defaultCallingCode,
    },
  );
}

/** Members of the segment who gave the required consents, with relative dates resolved at `nowMs`. */
export function memberQuery(plan: ExportPlan, nowMs: number): EsQuery {
  return exportQuery(compileSegment(plan.definition, nowMs), plan.request.consent);
}

/** What to read per member: doc values only when they serve every column (fast), else `_source` paths. */
export type ExportFetch = { docValues: string[] } | { source: string[] };

export function fetchOf(plan: ExportPlan): ExportFetch {
  const docValues = exportDocValueFields(plan.columns);
  return docValues ? { docValues } : { source: exportSourcePaths(plan.columns) };
}

export function encoderOf(plan: ExportPlan): ExportEncoder {
  return exportEncoder(plan.request.format, plan.columns, plan.context, 'docValues' in fetchOf(plan));
}

export function newRecord(
  plan: ExportPlan,
  init: { exportId: string; kind: ExportKind; status: ExportStatus; actor: string; requestId?: string; now: Date },
): ExportRecord {
  const at = init.now.toISOString();
  return {
    exportId: init.exportId,
    kind: init.kind,
    status: init.status,
    actor: init.actor,
    requestId: init.requestId,
    segmentId: plan.segmentId,
    segmentName: plan.segmentName,
    segmentVersion: plan.segmentVersion,
    definition: plan.definition,
    format: plan.request.format,
    fields: plan.request.fields,
    columns: plan.columns,
    consent: plan.request.consent,
    hashIdentifiers: plan.request.hashIdentifiers,
    defaultCallingCode: plan.context.defaultCallingCode,
    containsContactData: exportsContactData(plan.columns),
    rows: 0,
    createdAt: at,
    updatedAt: at,
  };
}
