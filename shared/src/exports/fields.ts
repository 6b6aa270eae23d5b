import { hashEmail, hashPhone, hashPhoneDigits, normalizeEmail, normalizePhone } from '../identifiers';
import { EXPORTABLE_FIELDS, PROFILE_FIELDS, profileField, type ExportableField } from '../profile-fields';

/** One cell: missing values are undefined (an empty CSV cell, `null` in NDJSON). */
export type ExportValue = string | number | boolean | string[] | undefined;

export interface ExportContext {
  /** Calling code for phones stored without one (see `normalizePhone`); unset drops them. */
  defaultCallingCode?: string;
}

export interface ExportFieldSpec {
  /** The profile `_source` path the value is read from. */
  source: string;
  /** Raw e-mail or phone: the field (its hash) that replaces it when identifiers are hashed. */
  hashedAs?: string;
  /**
   * A single-valued field with doc values holding exactly this column's value. When every column has one,
   * an export reads doc values only and never loads `_source`, which is what bounds its speed.
   */
  docValue?: string;
  /** Values can never start a spreadsheet formula (a `+` and digits only): CSV leaves them unguarded. */
  formulaSafe?: true;
  read: (doc: unknown, context: ExportContext) => ExportValue;
}

/** The value at a dotted path of a (partial) `_source`, when it is a scalar or a list of strings. */
export function valueAt(doc: unknown, path: string): ExportValue {
  let node: unknown = doc;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  if (typeof node === 'string' || typeof node === 'boolean') return node;
  if (typeof node === 'number') return Number.isFinite(node) ? node : undefined;
  if (Array.isArray(node)) return node.filter((v): v is string => typeof v === 'string');
  return undefined;
}

const plain = (source: string): ExportFieldSpec => ({ source, read: (doc) => valueAt(doc, source) });
/** A single-valued field that doc values serve as well as `_source` (lists would come back sorted and deduplicated). */
const single = (source: string): ExportFieldSpec => ({ ...plain(source), docValue: source });
/** A date, always written as Elasticsearch's doc values print it (`2026-11-23T10:00:00.000Z`), whichever path read it. */
const date = (source: string): ExportFieldSpec => ({
  source,
  docValue: source,
  read: (doc) => {
    const raw = valueAt(doc, source);
    const ms = typeof raw === 'string' ? Date.parse(raw) : Number.NaN;
    return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
  },
});
const contact = (
  source: string,
  read: (raw: ExportValue, context: ExportContext) => string | undefined,
  hashedAs?: string,
): ExportFieldSpec => ({
  source,
  read: (doc, context) => read(valueAt(doc, source), context),
  ...(hashedAs ? { hashedAs } : {}),
});

const READERS = { value: single, list: plain, date } as const;

/**
 * Contact columns, read from personal fields and only ever normalized or hashed. Every other column is a
 * profile field the catalogue marks `export` (shared/src/profile-fields.ts), of the same name.
 */
const CONTACT_COLUMNS = {
  /** Trimmed, lower-cased e-mail. */
  email: contact('contact.email', (raw) => normalizeEmail(raw), 'emailSha256'),
  /** E.164 phone. */
  phone: { ...contact('contact.phone', (raw, c) => normalizePhone(raw, c.defaultCallingCode), 'phoneSha256'), formulaSafe: true },
  /** SHA-256 hex of the normalized e-mail (Google Customer Match, Meta Custom Audiences). */
  emailSha256: { ...contact('contact.email', (raw) => hashEmail(raw)), docValue: 'contact.emailSha256' },
  /** SHA-256 hex of the E.164 phone with its `+` (Google Customer Match). */
  phoneSha256: contact('contact.phone', (raw, c) => hashPhone(raw, c.defaultCallingCode)),
  /** SHA-256 hex of the E.164 digits without `+` (Meta Custom Audiences). */
  phoneDigitsSha256: contact('contact.phone', (raw, c) => hashPhoneDigits(raw, c.defaultCallingCode)),
} as const satisfies Record<string, ExportFieldSpec>;

/**
 * The allow-list of export columns. Internal state, nested interest scores and raw behaviour windows are
 * not exportable; contact data only normalized (or hashed).
 */
export const EXPORT_FIELDS: Readonly<Record<ExportableField | keyof typeof CONTACT_COLUMNS, ExportFieldSpec>> = {
  ...(Object.fromEntries(EXPORTABLE_FIELDS.map((path) => [path, READERS[PROFILE_FIELDS[path].export](path)])) as Record<
    ExportableField,
    ExportFieldSpec
  >),
  ...CONTACT_COLUMNS,
};

export type ExportField = keyof typeof EXPORT_FIELDS;
export const EXPORT_FIELD_NAMES = Object.keys(EXPORT_FIELDS) as [ExportField, ...ExportField[]];

/** The columns actually written: with hashing on, raw `email`/`phone` become their hashes (once each). */
export function resolveExportFields(fields: readonly ExportField[], hashIdentifiers: boolean): ExportField[] {
  const out: ExportField[] = [];
  for (const field of fields) {
    const spec: ExportFieldSpec = EXPORT_FIELDS[field];
    const column = hashIdentifiers && spec.hashedAs ? (spec.hashedAs as ExportField) : field;
    if (!out.includes(column)) out.push(column);
  }
  return out;
}

/** The `_source` paths to fetch for these columns; `userId` always, nothing else. */
export function exportSourcePaths(fields: readonly ExportField[]): string[] {
  return [...new Set(['userId', ...fields.map((f) => EXPORT_FIELDS[f].source)])];
}

/**
 * The doc-value fields that serve every one of these columns, or undefined when some column needs
 * `_source` (raw contact data, phone hashes that depend on a calling code, ranked lists).
 */
export function exportDocValueFields(fields: readonly ExportField[]): string[] | undefined {
  const paths = fields.map((f) => (EXPORT_FIELDS[f] as ExportFieldSpec).docValue);
  return paths.every((p): p is string => p !== undefined) ? [...new Set(paths)] : undefined;
}

/** One column's values from a hit's doc-value `fields` (each an array; single-valued here). */
export function exportRowFromDocValues(fields: Readonly<Record<string, unknown>>, columns: readonly ExportField[]): ExportValue[] {
  return columns.map((column) => {
    const values = fields[(EXPORT_FIELDS[column] as ExportFieldSpec).docValue!];
    const value = Array.isArray(values) ? values[0] : undefined;
    return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))
      ? value
      : undefined;
  });
}

/** Whether any column carries contact data, raw or hashed (worth noting in the audit trail). */
export function exportsContactData(fields: readonly ExportField[]): boolean {
  return fields.some((f) => profileField(EXPORT_FIELDS[f].source)?.personal === true);
}
