import { z } from 'zod';
import { BEHAVIOUR_TYPES } from '../events';
import { ValidationError, type Issue } from '../errors';
import type { Checked } from '../intake';
import { WINDOWS_DAYS } from '../profile/options';
import { formatPath } from '../validation';
import { parseIsoDate } from './bounds';
import { closeFields, fieldSpec, INTEREST_PATHS, OPERATORS, type FieldSpec, type InterestKind, type Operator } from './fields';
import type { SegmentDefinition } from './types';

export const SEGMENT_LIMITS = {
  /** Levels of and/or/not nesting, the root included. */
  maxDepth: 8,
  /** Nodes in a definition: groups and conditions. */
  maxNodes: 200,
  /** Values in one `in`. */
  maxValues: 1000,
  maxStringLength: 512,
  /** Relative date spans. */
  maxDays: 36_500,
} as const;

const INT_MIN = -2_147_483_648;
const INT_MAX = 2_147_483_647;

type Path = (string | number)[];
interface RawIssue {
  path: Path;
  reason: string;
}

const NODE_KEYS = ['and', 'or', 'not', 'field', 'event', 'interest'] as const;
const NODE_SHAPES = '{ and: [...] }, { or: [...] }, { not: {...} }, { field, op, ... }, { event: {...} } or { interest: {...} }';
const ALL_OPERATORS: readonly Operator[] = ['eq', 'in', 'range', 'exists', 'prefix'];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const quote = (v: unknown): string => JSON.stringify(v) ?? String(v);
const list = (items: readonly unknown[]): string => items.map((i) => String(i)).join(', ');

/** Type errors that say what is expected, and "is required" for a missing key. */
const expected = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`),
});

/** A strict object whose unexpected keys are reported one by one, at the key. */
function strict<T extends z.ZodRawShape>(shape: T, what: string) {
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') return `is not a key of ${what}; expected ${list(Object.keys(shape))}`;
      if (issue.code === 'invalid_type') return `must be an object: ${what}`;
      return undefined;
    },
  });
}

const text = () =>
  z
    .string(expected('a string'))
    .max(SEGMENT_LIMITS.maxStringLength, `must be at most ${SEGMENT_LIMITS.maxStringLength} characters`)
    .refine((s) => !/\p{Cs}/u.test(s), 'must be valid Unicode text (it holds an unpaired surrogate)');

/** Range bounds on integer fields may be fractional: Elasticsearch rounds them as the comparison would. */
function numberValue(field: string, spec: FieldSpec, bound = false) {
  const n = z.number(expected('a number'));
  if (!spec.integer) return n;
  return n.superRefine((v, ctx) => {
    if (v < INT_MIN || v > INT_MAX) {
      ctx.addIssue({ code: 'custom', message: `must be between ${INT_MIN} and ${INT_MAX}: ${field} is a 32-bit integer`, input: v });
    } else if (!bound && !Number.isInteger(v)) {
      ctx.addIssue({ code: 'custom', message: `must be a whole number: ${field} holds integers, so ${v} can never match`, input: v });
    }
  });
}

function keywordValue(field: string, spec: FieldSpec) {
  const vocabulary = spec.values;
  if (!vocabulary) return text();
  return text().superRefine((v, ctx) => {
    if (!vocabulary.includes(v))
      ctx.addIssue({ code: 'custom', message: `is not a value of ${field}; use one of ${list(vocabulary)}`, input: v });
  });
}

function scalar(field: string, spec: FieldSpec) {
  switch (spec.kind) {
    case 'keyword':
      return keywordValue(field, spec);
    case 'number':
      return numberValue(field, spec);
    case 'boolean':
      return z.boolean(expected('true or false'));
    case 'date':
      return z.never();
  }
}

const isoDate = () =>
  z
    .string(expected('an ISO 8601 date (2025-01-31) or date-time with a zone (2025-01-31T08:00:00Z)'))
    .refine(
      (s) => parseIsoDate(s) !== undefined,
      'must be an ISO 8601 date (2025-01-31) or date-time with a zone (2025-01-31T08:00:00Z), and a real calendar date',
    );

const daysAgo = () =>
  strict(
    {
      days: z
        .number(expected('a whole number of days'))
        .int('must be a whole number of days')
        .min(1, 'must be at least 1')
        .max(SEGMENT_LIMITS.maxDays, `must be at most ${SEGMENT_LIMITS.maxDays}`),
    },
    '{ days }',
  );

type Bound = 'gte' | 'gt' | 'lte' | 'lt' | 'last' | 'olderThan';

/** One lower and one upper bound at most, at least one in all, and not an empty range. */
function checkRange(c: Partial<Record<Bound, unknown>>, ctx: z.RefinementCtx, isDate: boolean): void {
  const present = (keys: Bound[]) => keys.filter((k) => c[k] !== undefined);
  const lowers = present(isDate ? ['gte', 'gt', 'last'] : ['gte', 'gt']);
  const uppers = present(isDate ? ['lte', 'lt', 'olderThan'] : ['lte', 'lt']);
  if (lowers.length + uppers.length === 0) {
    ctx.addIssue({
      code: 'custom',
      message: `needs a bound: ${isDate ? 'gte, gt, lte, lt, last or olderThan' : 'gte, gt, lte or lt'}`,
      input: c,
    });
    return;
  }
  for (const group of [lowers, uppers]) {
    if (group.length > 1)
      ctx.addIssue({ code: 'custom', path: [group[1]!], message: `conflicts with ${group[0]}: give one of them`, input: c });
  }
  const lo = lowers[0];
  const hi = uppers[0];
  if (lowers.length !== 1 || uppers.length !== 1 || lo === undefined || hi === undefined) return;
  const strictBound = lo === 'gt' || hi === 'lt' || hi === 'olderThan';
  if (lo === 'last' && hi === 'olderThan') {
    const last = (c.last as { days: number }).days;
    const older = (c.olderThan as { days: number }).days;
    if (last <= older) {
      ctx.addIssue({
        code: 'custom',
        path: ['last'],
        message: `range is empty: the last ${last} days are all newer than olderThan ${older} days`,
        input: c,
      });
    }
    return;
  }
  if (lo === 'last' || hi === 'olderThan') return; // absolute against relative: depends on "now"
  const value = (v: unknown) => (isDate ? parseIsoDate(v as string) : (v as number));
  const low = value(c[lo]);
  const high = value(c[hi]);
  if (low === undefined || high === undefined) return;
  if (low > high || (low === high && strictBound)) {
    ctx.addIssue({
      code: 'custom',
      path: [lo],
      message: `range is empty: ${lo} ${quote(c[lo])} is ${low > high ? 'above' : 'equal to'} ${hi} ${quote(c[hi])}`,
      input: c,
    });
  }
}

function conditionSchema(field: string, spec: FieldSpec, op: Operator): z.ZodType {
  const head = { field: z.string(), op: z.literal(op) };
  const what = `an ${op} condition`;
  switch (op) {
    case 'exists':
      return strict(head, what);
    case 'eq':
      return strict({ ...head, value: scalar(field, spec) }, what);
    case 'prefix':
      return strict({ ...head, value: text().min(1, 'must not be empty') }, what);
    case 'in':
      return strict(
        {
          ...head,
          values: z
            .array(scalar(field, spec), expected('an array of values'))
            .min(1, 'must not be empty: list at least one value')
            .max(SEGMENT_LIMITS.maxValues, `must list at most ${SEGMENT_LIMITS.maxValues} values`),
        },
        what,
      );
    case 'range': {
      if (spec.kind === 'date') {
        const b = isoDate().optional();
        return strict(
          { ...head, gte: b, gt: b, lte: b, lt: b, last: daysAgo().optional(), olderThan: daysAgo().optional() },
          what,
        ).superRefine((c, ctx) => checkRange(c, ctx, true));
      }
      const b = numberValue(field, spec, true).optional();
      return strict({ ...head, gte: b, gt: b, lte: b, lt: b }, what).superRefine((c, ctx) => checkRange(c, ctx, false));
    }
  }
}

const conditionSchemas = new Map<string, z.ZodType>();
function cachedConditionSchema(field: string, spec: FieldSpec, op: Operator): z.ZodType {
  const key = `${field}\u0000${op}`;
  let schema = conditionSchemas.get(key);
  if (!schema) conditionSchemas.set(key, (schema = conditionSchema(field, spec, op)));
  return schema;
}

const count = () =>
  z
    .number(expected('a whole number'))
    .int('must be a whole number')
    .min(0, 'must not be negative')
    .max(INT_MAX, `must be at most ${INT_MAX}`);

const EventNode = strict(
  {
    event: strict(
      {
        type: z.enum(BEHAVIOUR_TYPES, {
          error: (i) => (i.input === undefined ? 'is required' : `must be one of ${list(BEHAVIOUR_TYPES)}`),
        }),
        atLeast: count().optional(),
        atMost: count().optional(),
        inLastDays: z
          .number(expected('a number of days'))
          .refine(
            (d) => (WINDOWS_DAYS as readonly number[]).includes(d),
            `must be one of ${list(WINDOWS_DAYS)}: profiles count events in these windows of UTC calendar days (today included); omit inLastDays for the lifetime count`,
          )
          .optional(),
      },
      '{ event: { type, atLeast, atMost, inLastDays } }',
    ).superRefine((e, ctx) => {
      if (e.atLeast !== undefined && e.atMost !== undefined && e.atLeast > e.atMost) {
        ctx.addIssue({
          code: 'custom',
          path: ['atLeast'],
          message: `range is empty: atLeast ${e.atLeast} is above atMost ${e.atMost}`,
          input: e,
        });
      }
    }),
  },
  'an event condition',
);

const InterestNode = strict(
  {
    interest: strict(
      {
        kind: z.enum(Object.keys(INTEREST_PATHS) as [InterestKind, ...InterestKind[]], {
          error: (i) => (i.input === undefined ? 'is required' : `must be one of ${list(Object.keys(INTEREST_PATHS))}`),
        }),
        name: text().min(1, 'must not be empty'),
        above: z.number(expected('a number')).min(0, 'must not be negative').optional(),
      },
      '{ interest: { kind, name, above } }',
    ),
  },
  'an interest condition',
);

function group(key: 'and' | 'or') {
  return strict(
    {
      [key]: z.array(z.unknown(), expected('an array of conditions')).min(1, 'must hold at least one condition'),
    },
    `an ${key} group`,
  );
}
const GROUPS = { and: group('and'), or: group('or') };
const NotNode = strict({ not: z.unknown() }, 'a not node');

interface Walk {
  issues: RawIssue[];
  nodes: number;
}

/** Runs `schema` over one node, adding its issues below `path`; true when the node passed. */
function apply(schema: z.ZodType, raw: unknown, path: Path, walk: Walk): boolean {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return true;
  for (const issue of parsed.error.issues) {
    const at = [...path, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) walk.issues.push({ path: [...at, key], reason: issue.message });
    } else {
      walk.issues.push({ path: at, reason: issue.message });
    }
  }
  return false;
}

function checkNode(raw: unknown, path: Path, depth: number, walk: Walk): void {
  if (walk.nodes > SEGMENT_LIMITS.maxNodes) return;
  if (!isRecord(raw)) {
    walk.issues.push({ path, reason: raw === undefined ? 'is required' : `must be a condition: ${NODE_SHAPES}` });
    return;
  }
  const kinds = NODE_KEYS.filter((k) => Object.hasOwn(raw, k));
  const kind = kinds[0];
  if (kind === undefined) {
    const keys = Object.keys(raw);
    walk.issues.push({ path, reason: `is not a condition (keys: ${keys.length ? list(keys) : 'none'}); expected ${NODE_SHAPES}` });
    return;
  }
  if (kinds.length > 1) {
    walk.issues.push({ path, reason: `mixes ${kinds.join(' and ')}: a node is one condition; combine several with { and: [...] }` });
    return;
  }
  if (++walk.nodes > SEGMENT_LIMITS.maxNodes) {
    walk.issues.push({ path: [], reason: `has more than ${SEGMENT_LIMITS.maxNodes} nodes (groups and conditions)` });
    return;
  }
  if (depth > SEGMENT_LIMITS.maxDepth) {
    walk.issues.push({ path, reason: `is nested too deeply: at most ${SEGMENT_LIMITS.maxDepth} levels of and/or/not` });
    return;
  }
  switch (kind) {
    case 'and':
    case 'or':
      if (apply(GROUPS[kind], raw, path, walk)) {
        (raw[kind] as unknown[]).forEach((child, i) => checkNode(child, [...path, kind, i], depth + 1, walk));
      }
      return;
    case 'not':
      if (apply(NotNode, raw, path, walk)) checkNode(raw.not, [...path, 'not'], depth + 1, walk);
      return;
    case 'event':
      apply(EventNode, raw, path, walk);
      return;
    case 'interest':
      apply(InterestNode, raw, path, walk);
      return;
    case 'field':
      checkFieldCondition(raw, path, walk);
      return;
  }
}

function checkFieldCondition(raw: Record<string, unknown>, path: Path, walk: Walk): void {
  const { field, op } = raw;
  if (typeof field !== 'string') {
    walk.issues.push({ path: [...path, 'field'], reason: 'must be a field name' });
    return;
  }
  const spec = fieldSpec(field);
  if (!spec) {
    const close = closeFields(field);
    const hint = close.length > 0 ? `did you mean ${close.join(', ')}?` : 'no segment field has a similar name';
    walk.issues.push({ path: [...path, 'field'], reason: `unknown field ${quote(field)}; ${hint}` });
    return;
  }
  const allowed = OPERATORS[spec.kind];
  const kindName = spec.kind === 'number' && spec.integer ? 'integer' : spec.kind;
  if (op === undefined || !allowed.includes(op as Operator)) {
    const what =
      op === undefined
        ? 'is required'
        : ALL_OPERATORS.includes(op as Operator)
          ? `${quote(op)} is not valid`
          : `${quote(op)} is not an operator`;
    walk.issues.push({ path: [...path, 'op'], reason: `${what}: ${kindName} field ${field} takes ${list(allowed)}` });
    return;
  }
  apply(cachedConditionSchema(field, spec, op as Operator), raw, path, walk);
}

/** Every issue of a raw definition, with paths relative to it. */
function definitionIssues(raw: unknown): RawIssue[] {
  const walk: Walk = { issues: [], nodes: 0 };
  checkNode(raw, [], 1, walk);
  return walk.issues;
}

/**
 * Validates a segment definition, pointing each issue at its node: `definition.and.2.or.0.field`.
 * `base` is the path of the definition in the request.
 */
export function parseSegmentDefinition(raw: unknown, base: Path = ['definition']): Checked<SegmentDefinition> {
  const issues = definitionIssues(raw);
  if (issues.length > 0) {
    return { ok: false, issues: issues.map((i): Issue => ({ path: formatPath([...base, ...i.path]), reason: i.reason })) };
  }
  return { ok: true, value: structuredClone(raw) as SegmentDefinition };
}

/** A definition that validates, or a 400 with the path of every offending node (`definition.and.2.field`). */
export function definitionOrThrow(raw: unknown): SegmentDefinition {
  const parsed = parseSegmentDefinition(raw);
  if (!parsed.ok) throw new ValidationError('invalid segment definition', parsed.issues);
  return parsed.value;
}

/** The same validation as a zod schema, to embed in request schemas (a segment's `definition`). */
export const SegmentDefinitionSchema = z
  .unknown()
  .superRefine((raw, ctx) => {
    for (const issue of definitionIssues(raw)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.reason, input: raw });
  })
  .transform((raw) => structuredClone(raw) as SegmentDefinition);
