import {
  INTEREST_PATHS,
  PROFILE_FIELDS,
  SEGMENT_FIELD_PATHS,
  type InterestKind,
  type ProfileField,
  type SegmentField,
} from '../profile-fields';

/**
 * The profile fields segments may use, derived from the field catalogue (`segment: true` in
 * shared/src/profile-fields.ts). A field's kind decides the operators it takes and how values compare.
 */

export type FieldKind = 'keyword' | 'number' | 'date' | 'boolean';
export type Operator = 'eq' | 'in' | 'range' | 'exists' | 'prefix';

export interface FieldSpec {
  kind: FieldKind;
  /** Number fields: mapped as `integer` (32-bit) rather than `double`. */
  integer?: boolean;
  /** Keyword fields with a closed vocabulary: values outside it are rejected as typos. */
  values?: readonly string[];
}

export const OPERATORS: Record<FieldKind, readonly Operator[]> = {
  keyword: ['eq', 'in', 'prefix', 'exists'],
  number: ['eq', 'in', 'range', 'exists'],
  date: ['range', 'exists'],
  boolean: ['eq', 'exists'],
};

function specOf(path: string, field: ProfileField): FieldSpec {
  switch (field.type) {
    case 'keyword':
      return field.values ? { kind: 'keyword', values: field.values } : { kind: 'keyword' };
    case 'integer':
      return { kind: 'number', integer: true };
    case 'double':
      return { kind: 'number' };
    case 'date':
      return { kind: 'date' };
    case 'boolean':
      return { kind: 'boolean' };
    default:
      throw new Error(`segment field ${path} has type ${field.type}, which conditions cannot compare`);
  }
}

export type { SegmentField, InterestKind };
export { INTEREST_PATHS };

export const SEGMENT_FIELDS: Readonly<Record<SegmentField, FieldSpec>> = Object.fromEntries(
  SEGMENT_FIELD_PATHS.map((path) => [path, specOf(path, PROFILE_FIELDS[path])]),
) as Record<SegmentField, FieldSpec>;

export function fieldSpec(name: string): FieldSpec | undefined {
  return Object.hasOwn(SEGMENT_FIELDS, name) ? SEGMENT_FIELDS[name as SegmentField] : undefined;
}

/** Catalogue fields closest to a misspelt name, best first. */
export function closeFields(name: string, max = 3): SegmentField[] {
  const lower = name.toLowerCase();
  const last = lower.split('.').pop() ?? lower;
  const scored = (Object.keys(SEGMENT_FIELDS) as SegmentField[]).map((field) => {
    const f = field.toLowerCase();
    const fLast = f.split('.').pop() ?? f;
    const distance = Math.min(editDistance(lower, f), editDistance(last, fLast) + (f.endsWith(`.${last}`) ? 0 : 1));
    return { field, distance, limit: Math.max(2, Math.floor(Math.min(last.length, fLast.length) / 3)) };
  });
  return scored
    .filter((s) => s.distance <= s.limit)
    .sort((a, b) => a.distance - b.distance || (a.field < b.field ? -1 : 1))
    .slice(0, max)
    .map((s) => s.field);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
