import { inBounds, parseIsoDate, rangeBounds } from './bounds';
import { eventBounds, eventWindow } from './compile';
import { countField } from '../profile-fields';
import { INTEREST_PATHS, SEGMENT_FIELDS, type FieldSpec } from './fields';
import type { FieldCondition, InterestCondition, SegmentDefinition } from './types';

type Value = string | number | boolean;
type Test = (doc: unknown) => boolean;

/**
 * The in-process twin of `compileSegment`: true when Elasticsearch would select `profile` (a profile
 * document, as indexed) for the same definition and `nowMs`. It reads values the way the profile mapping
 * indexes them: any element of an array may match, a missing or null field matches no eq/in/prefix/range
 * (so `not` of it does), keywords compare case-sensitively, integers are truncated, dates compare as epoch ms.
 */
export function segmentPredicate(def: SegmentDefinition, nowMs: number): (profile: object) => boolean {
  const test = build(def, nowMs);
  return (profile) => test(profile);
}

function build(def: SegmentDefinition, nowMs: number): Test {
  if ('and' in def) {
    const parts = def.and.map((d) => build(d, nowMs));
    return (doc) => parts.every((p) => p(doc));
  }
  if ('or' in def) {
    const parts = def.or.map((d) => build(d, nowMs));
    return (doc) => parts.some((p) => p(doc));
  }
  if ('not' in def) {
    const inner = build(def.not, nowMs);
    return (doc) => !inner(doc);
  }
  if ('event' in def) {
    const field = countField(def.event.type, eventWindow(def.event.inLastDays));
    const read = reader(field, SEGMENT_FIELDS[field]);
    const bounds = eventBounds(def.event);
    return (doc) => read(doc).some((v) => inBounds(v as number, bounds));
  }
  if ('interest' in def) return buildInterest(def);
  return buildField(def, nowMs);
}

function buildField(cond: FieldCondition, nowMs: number): Test {
  const spec = SEGMENT_FIELDS[cond.field];
  const read = reader(cond.field, spec);
  switch (cond.op) {
    case 'exists':
      return (doc) => read(doc).length > 0;
    case 'eq': {
      const target = cond.value;
      return (doc) => read(doc).some((v) => v === target);
    }
    case 'in': {
      const targets = new Set<Value>(cond.values);
      return (doc) => read(doc).some((v) => targets.has(v));
    }
    case 'prefix': {
      const prefix = cond.value;
      return (doc) => read(doc).some((v) => (v as string).startsWith(prefix));
    }
    case 'range': {
      const bounds = rangeBounds(cond, spec, nowMs);
      return (doc) => read(doc).some((v) => inBounds(v as number, bounds));
    }
  }
}

function buildInterest({ interest }: InterestCondition): Test {
  const elements = INTEREST_PATHS[interest.kind].split('.');
  const { name, above } = interest;
  const names = valuesOf(['name'], toKeyword);
  const scores = valuesOf(['score'], toNumber(false));
  return (doc) => {
    const nested: unknown[] = [];
    collect(doc, elements, 0, nested, true);
    return nested.some((el) => names(el).includes(name) && (above === undefined || scores(el).some((s) => (s as number) > above)));
  };
}

/** Reads a field's indexed values from a document: arrays flattened, nulls and unindexable values dropped. */
function reader(field: string, spec: FieldSpec): (doc: unknown) => Value[] {
  return valuesOf(field.split('.'), CONVERT[spec.kind](spec));
}

function valuesOf(parts: string[], convert: (raw: unknown) => Value | undefined): (doc: unknown) => Value[] {
  return (doc) => {
    const raw: unknown[] = [];
    collect(doc, parts, 0, raw, false);
    const out: Value[] = [];
    for (const r of raw) {
      const v = convert(r);
      if (v !== undefined) out.push(v);
    }
    return out;
  };
}

/**
 * Collects what sits at `parts` under `node`, as Elasticsearch flattens a source: arrays at any level
 * contribute each element, and dotted keys (`{ "attributes.region": ... }`) are paths too.
 * With `objects`, collects the objects at the path (nested documents) instead of leaf values.
 */
function collect(node: unknown, parts: string[], i: number, out: unknown[], objects: boolean): void {
  if (node === null || node === undefined) return;
  if (Array.isArray(node)) {
    for (const el of node) collect(el, parts, i, out, objects);
    return;
  }
  const isObject = typeof node === 'object';
  if (i === parts.length) {
    if (isObject === objects) out.push(node);
    return;
  }
  if (!isObject) return;
  const obj = node as Record<string, unknown>;
  let key = '';
  for (let j = i; j < parts.length; j++) {
    key = j === i ? parts[j]! : `${key}.${parts[j]}`;
    if (Object.hasOwn(obj, key)) collect(obj[key], parts, j + 1, out, objects);
  }
}

const toKeyword = (raw: unknown): Value | undefined =>
  typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : undefined;

/** Numbers as the mapping coerces them: numeric strings parsed, integers truncated. */
const toNumber =
  (integer: boolean) =>
  (raw: unknown): Value | undefined => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
    if (!Number.isFinite(n)) return undefined;
    return integer ? Math.trunc(n) : n;
  };

/** Dates as epoch ms: ISO 8601 strings, or epoch milliseconds as a number or numeric string. */
const toDate = (raw: unknown): Value | undefined => {
  if (typeof raw === 'number') return Number.isFinite(raw) ? Math.trunc(raw) : undefined;
  if (typeof raw !== 'string') return undefined;
  const iso = parseIsoDate(raw, true);
  if (iso !== undefined) return iso;
  return /^-?\d+$/.test(raw) ? Number(raw) : undefined;
};

/** Booleans as Elasticsearch reads them: "true"/"false" strings too, and "" as false. */
const toBoolean = (raw: unknown): Value | undefined =>
  typeof raw === 'boolean' ? raw : raw === 'true' ? true : raw === 'false' || raw === '' ? false : undefined;

const CONVERT: Record<FieldSpec['kind'], (spec: FieldSpec) => (raw: unknown) => Value | undefined> = {
  keyword: () => toKeyword,
  number: (spec) => toNumber(spec.integer === true),
  date: () => toDate,
  boolean: () => toBoolean,
};
