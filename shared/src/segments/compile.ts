import { countField, type CountWindow } from '../profile-fields';
import { INTEREST_PATHS, SEGMENT_FIELDS, type FieldSpec } from './fields';
import { rangeBounds } from './bounds';
import type { EventCondition, FieldCondition, InterestCondition, RangeCondition, SegmentDefinition } from './types';

/** An Elasticsearch query DSL object (kept as plain JSON: `shared` does not depend on the client). */
export type EsQuery = Record<string, unknown>;

/**
 * Compiles a validated definition to an Elasticsearch query, with relative dates resolved against
 * `nowMs` into absolute timestamps. Only bool, term(s), range, exists, prefix and nested: the minimal
 * distribution has no scripts or runtime fields. Use it in filter context; `segmentPredicate` with the
 * same `nowMs` selects exactly the same profiles.
 */
export function compileSegment(def: SegmentDefinition, nowMs: number): EsQuery {
  if ('and' in def) return { bool: { filter: def.and.map((d) => compileSegment(d, nowMs)) } };
  if ('or' in def) return { bool: { should: def.or.map((d) => compileSegment(d, nowMs)), minimum_should_match: 1 } };
  if ('not' in def) return { bool: { must_not: [compileSegment(def.not, nowMs)] } };
  if ('event' in def) return compileEvent(def);
  if ('interest' in def) return compileInterest(def);
  return compileField(def, nowMs);
}

function compileField(cond: FieldCondition, nowMs: number): EsQuery {
  const spec: FieldSpec = SEGMENT_FIELDS[cond.field];
  switch (cond.op) {
    case 'eq':
      return { term: { [cond.field]: cond.value } };
    case 'in':
      return { terms: { [cond.field]: cond.values } };
    case 'prefix':
      return { prefix: { [cond.field]: { value: cond.value } } };
    case 'exists':
      return { exists: { field: cond.field } };
    case 'range':
      return compileRange(cond, spec, nowMs);
  }
}

function compileRange(cond: RangeCondition, spec: FieldSpec, nowMs: number): EsQuery {
  const bounds = rangeBounds(cond, spec, nowMs);
  // Full millisecond timestamps: a partial date would be rounded up for gt/lte by Elasticsearch.
  const out = Object.fromEntries(
    Object.entries(bounds).map(([k, v]) => [k, spec.kind === 'date' ? new Date(v).toISOString() : v] as const),
  );
  return { range: { [cond.field]: out } };
}

export function eventWindow(inLastDays: EventCondition['event']['inLastDays']): CountWindow {
  return inLastDays === undefined ? 'lifetime' : `d${inLastDays}`;
}

/** The count range an event condition asks for: at least once when no bound is given. */
export function eventBounds(event: EventCondition['event']): { gte?: number; lte?: number } {
  if (event.atLeast === undefined && event.atMost === undefined) return { gte: 1 };
  return {
    ...(event.atLeast === undefined ? {} : { gte: event.atLeast }),
    ...(event.atMost === undefined ? {} : { lte: event.atMost }),
  };
}

function compileEvent({ event }: EventCondition): EsQuery {
  return { range: { [countField(event.type, eventWindow(event.inLastDays))]: eventBounds(event) } };
}

function compileInterest({ interest }: InterestCondition): EsQuery {
  const path = INTEREST_PATHS[interest.kind];
  const filter: EsQuery[] = [{ term: { [`${path}.name`]: interest.name } }];
  if (interest.above !== undefined) filter.push({ range: { [`${path}.score`]: { gt: interest.above } } });
  return { nested: { path, query: { bool: { filter } } } };
}
