export {
  EXPORT_FIELDS,
  EXPORT_FIELD_NAMES,
  exportDocValueFields,
  exportRowFromDocValues,
  exportSourcePaths,
  exportsContactData,
  resolveExportFields,
  valueAt,
  type ExportContext,
  type ExportField,
  type ExportFieldSpec,
  type ExportValue,
} from './fields';
export {
  EXPORT_CONSENTS,
  EXPORT_FORMATS,
  EXPORT_LIMITS,
  ExportRequestSchema,
  consentFilter,
  exportQuery,
  parseExportRequest,
  type ExportConsent,
  type ExportFormat,
  type ExportRequest,
  type ExportRequestInput,
} from './request';
export { CSV_LIST_SEPARATOR, csvHeader, csvRecord, exportEncoder, exportRow, ndjsonRecord, type ExportEncoder } from './rows';
export {
  EXPORT_KINDS,
  EXPORT_STATUSES,
  ExportRecordSchema,
  FINAL_STATUSES,
  type ExportKind,
  type ExportRecord,
  type ExportStatus,
} from './record';
export { encoderOf, fetchOf, memberQuery, newRecord, planExport, planOfRecord, type ExportFetch, type ExportPlan } from './plan';
