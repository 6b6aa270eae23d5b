/**
 * Offline checks of Kibana saved objects, for a test suite that has no Kibana: the structure Kibana's import and
 * its dashboards rely on (ids, references, panels, layers), every field each object uses with what it needs of the
 * field, and, for every Lens panel, the Elasticsearch search Lens would send for it, so the panel's fields and
 * filters can be run against the real indices.
 */
import type { SavedObject } from './lens';

/** What a panel asks of a field: to exist (a filter), to be aggregatable, numeric or a date. */
export type FieldNeed = 'exists' | 'aggregatable' | 'numeric' | 'date';

export interface FieldUse {
  /** The object that uses it (`lens:<id>`, `index-pattern:<id>`, `dashboard:<id>`). */
  by: string;
  /** The index pattern the field is read from (the data view's title). */
  index: string;
  field: string;
  need: FieldNeed;
}

type Json = Record<string, any>;

const LAYER_REF = 'indexpattern-datasource-layer-';

function parseJson(text: unknown, what: string, problems: string[]): any {
  if (typeof text !== 'string') {
    problems.push(`${what} is not a JSON string`);
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    problems.push(`${what} does not parse: ${(error as Error).message}`);
    return undefined;
  }
}

/** Parses NDJSON into objects, naming the line of anything that is not a saved object. */
export function parseNdjson(text: string): { objects: SavedObject[]; problems: string[] } {
  const problems: string[] = [];
  const objects: SavedObject[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const parsed = parseJson(line, `line ${i + 1}`, problems);
    if (parsed === undefined) return;
    if (
      typeof parsed.type !== 'string' ||
      typeof parsed.id !== 'string' ||
      typeof parsed.attributes !== 'object' ||
      !Array.isArray(parsed.references)
    ) {
      problems.push(`line ${i + 1}: not a saved object (type, id, attributes and references)`);
      return;
    }
    objects.push(parsed as SavedObject);
  });
  return { objects, problems };
}

/** The layers of a Lens object's form-based datasource. */
function lensLayers(o: SavedObject): Record<string, { columns: Record<string, Json>; columnOrder: string[] }> {
  return ((o.attributes.state as Json | undefined)?.datasourceStates?.formBased?.layers ?? {}) as Record<
    string,
    { columns: Record<string, Json>; columnOrder: string[] }
  >;
}

/** Every column id a Lens visualization state points at. */
function accessors(visualization: Json): string[] {
  const out: string[] = [];
  const take = (v: unknown) => {
    if (typeof v === 'string') out.push(v);
    if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') out.push(x);
  };
  const scan = (layer: Json) => {
    for (const key of [
      'xAccessor',
      'yAccessor',
      'valueAccessor',
      'splitAccessor',
      'metricAccessor',
      'accessors',
      'primaryGroups',
      'metrics',
    ])
      take(layer[key]);
    if (Array.isArray(layer.columns)) for (const c of layer.columns) take(c?.columnId);
  };
  scan(visualization);
  if (Array.isArray(visualization.layers)) for (const layer of visualization.layers) scan(layer);
  return out;
}

/** Structural problems: an empty list means Kibana's import would resolve every object and every panel. */
export function structuralProblems(objects: readonly SavedObject[]): string[] {
  const problems: string[] = [];
  const byKey = new Map<string, SavedObject>();
  for (const o of objects) {
    const key = `${o.type}:${o.id}`;
    if (byKey.has(key)) problems.push(`${key}: id used twice`);
    byKey.set(key, o);
  }

  for (const o of objects) {
    const key = `${o.type}:${o.id}`;
    const refNames = o.references.map((r) => r.name);
    if (new Set(refNames).size !== refNames.length) problems.push(`${key}: reference names repeat`);
    for (const r of o.references)
      if (!byKey.has(`${r.type}:${r.id}`)) problems.push(`${key}: reference ${r.name} -> ${r.type}:${r.id} does not resolve`);
    if (typeof o.attributes.title !== 'string' || o.attributes.title === '') problems.push(`${key}: no title`);

    if (o.type === 'index-pattern') {
      parseJson(o.attributes.fieldFormatMap ?? '{}', `${key} fieldFormatMap`, problems);
      parseJson(o.attributes.sourceFilters ?? '[]', `${key} sourceFilters`, problems);
    }
    if (o.type === 'lens') {
      const layers = lensLayers(o);
      if (Object.keys(layers).length === 0) problems.push(`${key}: no form-based layer`);
      const columns = new Set<string>();
      for (const [layerId, layer] of Object.entries(layers)) {
        if (!refNames.includes(`${LAYER_REF}${layerId}`)) problems.push(`${key}: layer ${layerId} has no data view reference`);
        const names = Object.keys(layer.columns ?? {});
        if ([...names].sort().join() !== [...(layer.columnOrder ?? [])].sort().join())
          problems.push(`${key}: layer ${layerId} columnOrder differs from its columns`);
        for (const [id, c] of Object.entries(layer.columns ?? {})) {
          columns.add(id);
          const order = c.params?.orderBy;
          if (order?.type === 'column' && !(order.columnId in layer.columns))
            problems.push(`${key}: column ${id} orders by missing column ${order.columnId}`);
        }
      }
      const visualization = (o.attributes.state as Json | undefined)?.visualization as Json | undefined;
      if (!visualization) problems.push(`${key}: no visualization state`);
      else for (const a of accessors(visualization)) if (!columns.has(a)) problems.push(`${key}: visualization uses missing column ${a}`);
    }
    if (o.type === 'dashboard') {
      const panels = parseJson(o.attributes.panelsJSON, `${key} panelsJSON`, problems);
      if (Array.isArray(panels)) {
        const cells = new Set<string>();
        for (const p of panels) {
          const name = `${p.panelIndex}:${p.panelRefName}`;
          if (!refNames.includes(name)) problems.push(`${key}: panel ${p.panelIndex} has no reference ${name}`);
          const g = p.gridData ?? {};
          if (g.i !== p.panelIndex) problems.push(`${key}: panel ${p.panelIndex} gridData.i is ${g.i}`);
          if (!(g.w > 0 && g.h > 0 && g.x >= 0 && g.y >= 0 && g.x + g.w <= 48))
            problems.push(`${key}: panel ${p.panelIndex} lies outside the 48-column grid`);
          for (let x = g.x; x < g.x + g.w; x++)
            for (let y = g.y; y < g.y + g.h; y++) {
              if (cells.has(`${x},${y}`)) {
                problems.push(`${key}: panel ${p.panelIndex} overlaps another`);
                x = Infinity;
                break;
              }
              cells.add(`${x},${y}`);
            }
        }
      }
      parseJson(o.attributes.optionsJSON, `${key} optionsJSON`, problems);
      const search = (o.attributes.kibanaSavedObjectMeta as Json | undefined)?.searchSourceJSON;
      parseJson(search, `${key} searchSourceJSON`, problems);
      const group = o.attributes.controlGroupInput as Json | undefined;
      if (group) {
        const controls = parseJson(group.panelsJSON, `${key} controlGroupInput.panelsJSON`, problems) as Record<string, Json> | undefined;
        for (const [id, c] of Object.entries(controls ?? {})) {
          const name = `controlGroup_${id}:optionsListDataView`;
          const ref = o.references.find((r) => r.name === name);
          if (!ref) problems.push(`${key}: control ${id} has no reference ${name}`);
          else if (ref.id !== c.explicitInput?.dataViewId)
            problems.push(`${key}: control ${id} names data view ${c.explicitInput?.dataViewId}, its reference ${ref.id}`);
        }
      }
    }
  }
  return problems;
}

function dataViewTitle(objects: readonly SavedObject[], id: string): string {
  const view = objects.find((o) => o.type === 'index-pattern' && o.id === id);
  if (!view) throw new Error(`data view ${id} is not among the objects`);
  return view.attributes.title as string;
}

function lensIndex(objects: readonly SavedObject[], o: SavedObject, layerId: string): string {
  const ref = o.references.find((r) => r.name === `${LAYER_REF}${layerId}`);
  if (!ref) throw new Error(`lens:${o.id} layer ${layerId} has no data view reference`);
  return dataViewTitle(objects, ref.id);
}

/** The fields a KQL filter of the supported subset reads. */
function kqlFields(kql: string): string[] {
  return kql.trim() === '' ? [] : kqlClauses(kql).map((c) => c.field);
}

/** Every field every object uses, with what it needs of it. */
export function fieldUses(objects: readonly SavedObject[]): FieldUse[] {
  const uses: FieldUse[] = [];
  for (const o of objects) {
    const by = `${o.type}:${o.id}`;
    if (o.type === 'index-pattern') {
      const index = o.attributes.title as string;
      if (typeof o.attributes.timeFieldName === 'string') uses.push({ by, index, field: o.attributes.timeFieldName, need: 'date' });
      for (const field of Object.keys(JSON.parse((o.attributes.fieldFormatMap as string) ?? '{}') as Json))
        uses.push({ by, index, field, need: 'exists' });
    }
    if (o.type === 'lens') {
      const state = o.attributes.state as Json;
      for (const [layerId, layer] of Object.entries(lensLayers(o))) {
        const index = lensIndex(objects, o, layerId);
        for (const field of kqlFields(state.query?.query ?? '')) uses.push({ by, index, field, need: 'exists' });
        for (const c of Object.values(layer.columns)) {
          if (c.filter?.query) for (const field of kqlFields(c.filter.query)) uses.push({ by, index, field, need: 'exists' });
          if (c.operationType === 'filters')
            for (const f of c.params.filters) for (const field of kqlFields(f.input.query)) uses.push({ by, index, field, need: 'exists' });
          if (c.operationType === 'formula')
            for (const q of formulaFilters(c.params.formula))
              for (const field of kqlFields(q)) uses.push({ by, index, field, need: 'exists' });
          if (!c.sourceField || c.sourceField === '___records___') continue;
          const need: FieldNeed =
            c.operationType === 'date_histogram'
              ? 'date'
              : ['sum', 'average', 'max', 'min', 'median'].includes(c.operationType)
                ? 'numeric'
                : 'aggregatable';
          uses.push({ by, index, field: c.sourceField, need });
        }
      }
    }
    if (o.type === 'dashboard') {
      const group = o.attributes.controlGroupInput as Json | undefined;
      if (!group) continue;
      for (const c of Object.values(JSON.parse(group.panelsJSON as string) as Record<string, Json>)) {
        uses.push({
          by,
          index: dataViewTitle(objects, c.explicitInput.dataViewId),
          field: c.explicitInput.fieldName,
          need: 'aggregatable',
        });
      }
    }
  }
  return uses;
}

/** One `field : value` or `field : (a or b)` clause. */
interface KqlClause {
  field: string;
  values: string[];
}

const CLAUSE = /^\s*([A-Za-z_][\w.]*)\s*:\s*(?:\(([^()]*)\)|"([^"]*)"|([^\s()"]+))\s*$/;

/** Parses the KQL subset Portrait's objects use; anything else is an error naming the filter. */
export function kqlClauses(kql: string): KqlClause[] {
  return kql.split(/\s+and\s+/i).map((part) => {
    const m = CLAUSE.exec(part);
    if (!m) throw new Error(`KQL filter outside the supported subset (field : value, field : (a or b), joined by and): ${kql}`);
    // Unquoted values are single words; a quoted one may hold spaces.
    const words = m[2] !== undefined ? m[2].split(/\s+or\s+/i).map((v) => v.trim()) : m[3] !== undefined ? [`"${m[3]}"`] : [m[4]!];
    if (words.some((w) => w === '' || w === '""' || (!/^"[^"]*"$/.test(w) && /[\s"]/.test(w))))
      throw new Error(`KQL filter outside the supported subset: ${kql}`);
    const values = words.map((w) => w.replace(/^"(.*)"$/, '$1'));
    return { field: m[1]!, values };
  });
}

/** The Elasticsearch query a KQL filter of the subset means. */
export function kqlQuery(kql: string): Json {
  if (kql.trim() === '') return { match_all: {} };
  return {
    bool: {
      filter: kqlClauses(kql).map((c) =>
        c.values.length === 1 ? { term: { [c.field]: c.values[0] } } : { terms: { [c.field]: c.values } },
      ),
    },
  };
}

const RATIO = /^count\(kql='([^']*)'\) \/ count\(kql='([^']*)'\)$/;

/** The two filters of a ratio formula, the only formula Portrait's objects use. */
export function formulaFilters(formula: string): [string, string] {
  const m = RATIO.exec(formula);
  if (!m) throw new Error(`formula outside the supported form count(kql='a') / count(kql='b'): ${formula}`);
  return [m[1]!, m[2]!];
}

function metricAggs(id: string, c: Json): Json {
  const filtered = (agg: Json | undefined): Json =>
    c.filter?.query ? { [id]: { filter: kqlQuery(c.filter.query), ...(agg && { aggs: { value: agg } }) } } : agg ? { [id]: agg } : {};
  switch (c.operationType) {
    case 'count':
      return filtered(undefined);
    case 'sum':
      return filtered({ sum: { field: c.sourceField } });
    case 'average':
      return filtered({ avg: { field: c.sourceField } });
    case 'max':
      return filtered({ max: { field: c.sourceField } });
    case 'unique_count':
      return filtered({ cardinality: { field: c.sourceField } });
    case 'formula': {
      const [numerator, denominator] = formulaFilters(c.params.formula);
      return { [`${id}_num`]: { filter: kqlQuery(numerator) }, [`${id}_den`]: { filter: kqlQuery(denominator) } };
    }
    default:
      throw new Error(`metric operation ${c.operationType} is not translated by the validator`);
  }
}

function bucketAgg(c: Json): Json {
  switch (c.operationType) {
    case 'terms':
      return { terms: { field: c.sourceField, size: c.params.size } };
    case 'date_histogram':
      // Lens picks an interval from the time range; a day is what it picks for weeks to months.
      return { date_histogram: { field: c.sourceField, calendar_interval: 'day', min_doc_count: 1 } };
    case 'filters':
      return { filters: { filters: Object.fromEntries((c.params.filters as Json[]).map((f) => [f.label, kqlQuery(f.input.query)])) } };
    default:
      throw new Error(`bucket operation ${c.operationType} is not translated by the validator`);
  }
}

export interface PanelSearch {
  lens: string;
  index: string;
  body: Json;
  /** The outermost bucket aggregation's name, when the panel groups. */
  bucketAgg?: string;
}

/**
 * The search a Lens panel sends, in the terms Lens builds it: the panel's query as a filter, its bucket columns
 * nested in column order, its metrics inside the innermost bucket.
 */
export function panelSearches(objects: readonly SavedObject[]): PanelSearch[] {
  const out: PanelSearch[] = [];
  for (const o of objects) {
    if (o.type !== 'lens') continue;
    const state = o.attributes.state as Json;
    for (const [layerId, layer] of Object.entries(lensLayers(o))) {
      const ordered = layer.columnOrder.map((id) => [id, layer.columns[id]!] as const);
      const buckets = ordered.filter(([, c]) => c.isBucketed);
      let metrics: Json = {};
      for (const [id, c] of ordered.filter(([, c]) => !c.isBucketed)) metrics = { ...metrics, ...metricAggs(id, c) };
      let aggs: Json = metrics;
      for (const [id, c] of [...buckets].reverse()) aggs = { [id]: { ...bucketAgg(c), ...(Object.keys(aggs).length > 0 && { aggs }) } };
      out.push({
        lens: o.id,
        index: lensIndex(objects, o, layerId),
        body: { size: 0, track_total_hits: true, query: kqlQuery(state.query?.query ?? ''), ...(Object.keys(aggs).length > 0 && { aggs }) },
        ...(buckets[0] && { bucketAgg: buckets[0][0] }),
      });
    }
  }
  return out;
}
