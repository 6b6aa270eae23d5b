import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { savedObjects, toNdjson } from '../../scripts/kibana/objects';
import type { SavedObject } from '../../scripts/kibana/lens';
import { fieldUses, kqlClauses, kqlQuery, panelSearches, parseNdjson, structuralProblems } from '../../scripts/kibana/validate';

const FILE = path.resolve(__dirname, '../../infra/kibana/portrait.ndjson');
const clone = (objects: SavedObject[]): SavedObject[] => JSON.parse(JSON.stringify(objects)) as SavedObject[];
const dashboard = (objects: SavedObject[], id: string) => objects.find((o) => o.type === 'dashboard' && o.id === id)!;

describe('the committed saved objects', () => {
  const text = readFileSync(FILE, 'utf8');

  it('are what the definitions generate (npm run kibana -- generate writes them)', () => {
    expect(text).toBe(toNdjson(savedObjects('portrait')));
  });

  it('parse line by line, and every id, reference, layer, panel and control resolves', () => {
    const { objects, problems } = parseNdjson(text);
    expect(problems).toEqual([]);
    expect(structuralProblems(objects)).toEqual([]);
    expect(objects.map((o) => o.type)).toEqual(expect.arrayContaining(['index-pattern', 'lens', 'dashboard']));
  });

  it('put every Lens panel on a dashboard, and both dashboards hold the panels the overview promises', () => {
    const objects = savedObjects('portrait');
    const lens = objects.filter((o) => o.type === 'lens').map((o) => o.id);
    const used = new Set(
      objects.filter((o) => o.type === 'dashboard').flatMap((o) => o.references.filter((r) => r.type === 'lens').map((r) => r.id)),
    );
    expect(lens.filter((id) => !used.has(id))).toEqual([]);
    const overview = dashboard(objects, 'portrait-overview');
    expect(overview.attributes.title).toBe('Portrait overview');
    const titles = overview.references.map((r) => objects.find((o) => o.id === r.id)!.attributes.title);
    for (const title of [
      'Profiles by value tier',
      'Profiles by lifecycle stage',
      'Behaviour clusters',
      'RFM grid',
      'Age band by gender',
      'Top categories',
      'Top brands',
      'Profiles by region',
      'Events over time by type',
      'View, cart, purchase',
      'Revenue over time',
      'Recommendation click-through by strategy',
      'Segment sizes over time',
    ])
      expect(titles).toContain(title);
    const segment = dashboard(objects, 'portrait-segment');
    const controls = JSON.parse((segment.attributes.controlGroupInput as { panelsJSON: string }).panelsJSON) as Record<string, any>;
    expect(Object.values(controls).map((c) => c.explicitInput.fieldName)).toEqual(['segments']);
  });

  it('name each field with what it needs, and translate every panel into a search', () => {
    const objects = savedObjects('portrait');
    const uses = fieldUses(objects);
    expect(uses).toContainEqual({ by: 'lens:portrait-lens-rfm-grid', index: 'portrait-profiles', field: 'rfm.r', need: 'aggregatable' });
    expect(uses).toContainEqual({
      by: 'lens:portrait-lens-revenue-over-time',
      index: 'portrait-events',
      field: 'order.amount',
      need: 'numeric',
    });
    expect(uses).toContainEqual({ by: 'index-pattern:portrait-dv-events', index: 'portrait-events', field: 'timestamp', need: 'date' });
    expect(uses).toContainEqual({ by: 'dashboard:portrait-segment', index: 'portrait-profiles', field: 'segments', need: 'aggregatable' });
    const searches = panelSearches(objects);
    expect(searches).toHaveLength(objects.filter((o) => o.type === 'lens').length);
    const ctr = searches.find((s) => s.lens === 'portrait-lens-recommendation-ctr')!;
    expect(ctr.body.aggs.x.terms).toEqual({ field: 'strategy', size: 10 });
    expect(ctr.body.aggs.x.aggs.m0_num).toEqual({ filter: { bool: { filter: [{ term: { type: 'recommendation_click' } }] } } });
    const stacked = searches.find((s) => s.lens === 'portrait-lens-age-gender')!;
    expect(Object.keys(stacked.body.aggs)).toEqual(['split']);
    expect(stacked.body.aggs.split.aggs.x.terms.field).toBe('attributes.ageBand');
  });
});

describe('the structural check', () => {
  const objects = savedObjects('portrait');

  it('finds a reference that does not resolve', () => {
    const broken = clone(objects);
    dashboard(broken, 'portrait-overview').references[0]!.id = 'portrait-lens-gone';
    expect(structuralProblems(broken)).toContainEqual(
      expect.stringMatching(/reference p1:panel_p1 -> lens:portrait-lens-gone does not resolve/),
    );
  });

  it('finds an id used twice, a panel without its reference and panelsJSON that does not parse', () => {
    const twice = [...clone(objects), clone(objects)[0]!];
    expect(structuralProblems(twice)).toContainEqual(expect.stringMatching(/id used twice/));
    const noRef = clone(objects);
    const d = dashboard(noRef, 'portrait-overview');
    d.references = d.references.filter((r) => r.name !== 'p2:panel_p2');
    expect(structuralProblems(noRef)).toContainEqual('dashboard:portrait-overview: panel p2 has no reference p2:panel_p2');
    const bad = clone(objects);
    dashboard(bad, 'portrait-overview').attributes.panelsJSON = '[{';
    expect(structuralProblems(bad)).toContainEqual(expect.stringMatching(/panelsJSON does not parse/));
  });

  it('finds overlapping panels, a layer without its data view and a visualization on a missing column', () => {
    const overlap = clone(objects);
    const d = dashboard(overlap, 'portrait-overview');
    const panels = JSON.parse(d.attributes.panelsJSON as string);
    panels[1].gridData.x = 0;
    d.attributes.panelsJSON = JSON.stringify(panels);
    expect(structuralProblems(overlap)).toContainEqual('dashboard:portrait-overview: panel p2 overlaps another');
    const layerless = clone(objects);
    layerless.find((o) => o.type === 'lens')!.references = [];
    expect(structuralProblems(layerless)).toContainEqual(expect.stringMatching(/layer layer1 has no data view reference/));
    const missing = clone(objects);
    const lens = missing.find((o) => o.id === 'portrait-lens-rfm-grid')!;
    (lens.attributes.state as any).visualization.valueAccessor = 'nope';
    expect(structuralProblems(missing)).toContainEqual('lens:portrait-lens-rfm-grid: visualization uses missing column nope');
  });

  it('names the line that is not a saved object', () => {
    expect(parseNdjson('{"type":"lens"}\nnot json\n').problems).toEqual([
      'line 1: not a saved object (type, id, attributes and references)',
      expect.stringMatching(/^line 2 does not parse/),
    ]);
  });

  it('holds for any prefix: ids carry it, data views read its indices', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/), (prefix) => {
        const generated = savedObjects(prefix);
        expect(structuralProblems(generated)).toEqual([]);
        for (const o of generated) expect(o.id.startsWith(`${prefix}-`)).toBe(true);
        for (const o of generated.filter((g) => g.type === 'index-pattern'))
          expect(String(o.attributes.title).startsWith(`${prefix}-`)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });
});

describe('the KQL subset', () => {
  it('translates field : value, field : (a or b) and and', () => {
    expect(kqlQuery('type : purchase and channel : (web or app)')).toEqual({
      bool: { filter: [{ term: { type: 'purchase' } }, { terms: { channel: ['web', 'app'] } }] },
    });
    expect(kqlQuery('')).toEqual({ match_all: {} });
    expect(kqlClauses('name : "High value" and type : ("a b" or c)')).toEqual([
      { field: 'name', values: ['High value'] },
      { field: 'type', values: ['a b', 'c'] },
    ]);
    expect(() => kqlClauses('type : (a b or c)')).toThrow(/outside the supported subset/);
  });

  it('refuses anything else with an error naming the filter, whatever the string', () => {
    const hostile = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.constantFrom('__proto__', 'constructor : x', 'type : (a or', 'not type : x', '\uD800 : x', 'a : b or c : d', 'x'.repeat(10_000)),
    );
    fc.assert(
      fc.property(hostile, (kql) => {
        try {
          for (const clause of kqlClauses(kql)) {
            expect(clause.field).toMatch(/^[A-Za-z_][\w.]*$/);
            expect(clause.values.length).toBeGreaterThan(0);
          }
        } catch (error) {
          expect((error as Error).message).toMatch(/KQL filter outside the supported subset/);
        }
      }),
    );
  });
});
