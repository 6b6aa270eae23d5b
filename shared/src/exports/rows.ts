import { stringify } from 'csv-stringify/sync';
import {
  EXPORT_FIELDS,
  exportRowFromDocValues,
  type ExportContext,
  type ExportField,
  type ExportFieldSpec,
  type ExportValue,
} from './fields';

/** Lists inside one CSV cell are joined with this (and only here: NDJSON keeps arrays). */
export const CSV_LIST_SEPARATOR = '|';

/** One profile (`_source`, possibly partial) as the values of the given columns, in order. */
export function exportRow(doc: unknown, columns: readonly ExportField[], context: ExportContext = {}): ExportValue[] {
  return columns.map((column) => (EXPORT_FIELDS[column] as ExportFieldSpec).read(doc, context));
}

/**
 * First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection"; the full-width
 * forms too, which some spreadsheets normalize): such a text cell gets a leading `'`, which spreadsheets
 * show as text and hide. Numbers and booleans are never touched.
 */
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

function cell(value: ExportValue, guard: boolean): string {
  if (value === undefined) return '';
  const text = Array.isArray(value) ? value.join(CSV_LIST_SEPARATOR) : String(value);
  return guard && typeof value !== 'number' && typeof value !== 'boolean' && FORMULA_START.test(text) ? `'${text}` : text;
}

/**
 * One CSV record with its `\n` terminator (RFC 4180 quoting: a cell holding a comma, quote, CR or LF is
 * quoted and its quotes doubled). Cells are converted to text first, so booleans read `true`/`false`.
 * A one-column record with an empty cell is written `""`: a blank line would be skipped by many readers.
 */
export function csvRecord(values: readonly ExportValue[], columns?: readonly ExportField[]): string {
  return csvRecords([values], columns);
}

/**
 * Many records at once (one stringifier per page, not per row). Text cells are guarded against formula
 * injection except in the `columns` whose values cannot hold a formula (`formulaSafe`: E.164 phones, which
 * start with `+` and would otherwise be mangled).
 */
export function csvRecords(records: readonly (readonly ExportValue[])[], columns?: readonly ExportField[]): string {
  if (records.length === 0) return '';
  const guard = records[0]!.map((_, i) => {
    const column = columns?.[i];
    return column === undefined || (EXPORT_FIELDS[column] as ExportFieldSpec).formulaSafe !== true;
  });
  return stringify(
    records.map((values) => values.map((v, i) => cell(v, guard[i]!))),
    // A lone CR ends a record for many readers: a cell holding one is quoted like one holding LF.
    { record_delimiter: 'unix', eof: true, quoted_empty: records[0]!.length === 1, quoted_match: /\r/ },
  );
}

export function csvHeader(columns: readonly ExportField[]): string {
  return csvRecord(columns);
}

/** One NDJSON line: the columns as keys, missing values as `null`, lists as arrays. */
export function ndjsonRecord(columns: readonly ExportField[], values: readonly ExportValue[]): string {
  return `${JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, values[i] ?? null])))}\n`;
}

/** Turns profiles into the lines of a file in one format; the header (CSV only) comes first. */
export interface ExportEncoder {
  contentType: string;
  extension: string;
  header(): string;
  rows(docs: readonly unknown[]): string;
}

/**
 * `fromDocValues`: the documents are hits' doc-value `fields` (see `exportDocValueFields`) rather than
 * `_source` objects.
 */
export function exportEncoder(
  format: 'csv' | 'ndjson',
  columns: readonly ExportField[],
  context: ExportContext = {},
  fromDocValues = false,
): ExportEncoder {
  const values = fromDocValues
    ? (d: unknown) => exportRowFromDocValues(d as Record<string, unknown>, columns)
    : (d: unknown) => exportRow(d, columns, context);
  if (format === 'csv') {
    return {
      contentType: 'text/csv; charset=utf-8',
      extension: 'csv',
      header: () => csvHeader(columns),
      rows: (docs) => csvRecords(docs.map(values), columns),
    };
  }
  return {
    contentType: 'application/x-ndjson; charset=utf-8',
    extension: 'ndjson',
    header: () => '',
    rows: (docs) => docs.map((d) => ndjsonRecord(columns, values(d))).join(''),
  };
}
