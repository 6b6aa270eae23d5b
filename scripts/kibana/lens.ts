/**
 * Typed definitions of Portrait's Kibana objects, and their translation into Kibana 9 saved objects: data views,
 * Lens visualizations (the form-based datasource, one layer each) and dashboards. The definitions say what a
 * panel shows (which data view, what it groups by, what it measures); this file owns how Kibana stores that.
 */

/** A saved object as the saved-objects import API reads it, one per NDJSON line. */
export interface SavedObject {
  type: 'index-pattern' | 'lens' | 'dashboard';
  id: string;
  attributes: Record<string, unknown>;
  references: { type: string; id: string; name: string }[];
}

/** A Kibana field format (`fieldFormatMap` of a data view, `params.format` of a Lens column). */
export type FieldFormat = { id: 'number'; params: { pattern: string } } | { id: 'percent'; params: { pattern: string } } | { id: 'bytes' };

export interface DataViewSpec {
  id: string;
  name: string;
  /** The index pattern or alias, without the prefix: `profiles` is `<prefix>-profiles`. */
  index: string;
  timeField?: string;
  formats?: Record<string, FieldFormat>;
  /** Fields left out of Discover's documents (contact data, internal state). */
  hiddenFields?: string[];
}

/**
 * A KQL filter in the subset Portrait's objects use, so that the validator can run it: `field : value`,
 * `field : (a or b)`, joined by ` and `.
 */
export type Kql = string;

/** What a panel groups by. */
export type Bucket =
  | { kind: 'terms'; field: string; size: number; label?: string }
  | { kind: 'date_histogram'; field: string; label?: string }
  | { kind: 'filters'; label?: string; filters: { label: string; kql: Kql }[] };

/** What a panel measures. */
export type Metric =
  | { kind: 'count'; label: string; kql?: Kql; format?: FieldFormat }
  | { kind: 'sum' | 'average' | 'max' | 'unique_count'; field: string; label: string; kql?: Kql; format?: FieldFormat }
  /** A ratio of two filtered counts (Lens formula `count(kql='a') / count(kql='b')`), e.g. a click-through rate. */
  | { kind: 'ratio'; label: string; numerator: Kql; denominator: Kql; format?: FieldFormat };

export type Chart =
  | { type: 'bar' | 'bar_stacked' | 'bar_horizontal' | 'line' | 'area'; x: Bucket; split?: Bucket; metrics: Metric[] }
  | { type: 'pie' | 'donut' | 'treemap'; groups: Bucket[]; metric: Metric }
  | { type: 'heatmap'; x: Bucket; y: Bucket; metric: Metric }
  | { type: 'metric'; metric: Metric }
  | { type: 'table'; rows: Bucket[]; metrics: Metric[] };

export interface LensSpec {
  id: string;
  title: string;
  /** What the panel answers, shown as its description. */
  description: string;
  dataView: string;
  /** A KQL filter for the whole panel (the subset above). */
  kql?: Kql;
  chart: Chart;
}

export interface PanelSpec {
  lens: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface DashboardSpec {
  id: string;
  title: string;
  description: string;
  timeFrom: string;
  timeTo: string;
  panels: PanelSpec[];
  /** Options-list controls at the top of the dashboard. */
  controls?: { id: string; dataView: string; field: string; title: string; singleSelect?: boolean }[];
}

const LAYER = 'layer1';

type Column = Record<string, unknown>;

function bucketColumn(bucket: Bucket, orderBy: string | undefined): Column {
  switch (bucket.kind) {
    case 'terms':
      return {
        label: bucket.label ?? `Top ${bucket.size} values of ${bucket.field}`,
        customLabel: bucket.label !== undefined,
        dataType: 'string',
        operationType: 'terms',
        scale: 'ordinal',
        sourceField: bucket.field,
        isBucketed: true,
        params: {
          size: bucket.size,
          orderBy: orderBy ? { type: 'column', columnId: orderBy } : { type: 'alphabetical', fallback: true },
          orderDirection: orderBy ? 'desc' : 'asc',
          otherBucket: false,
          missingBucket: false,
          parentFormat: { id: 'terms' },
          include: [],
          exclude: [],
          includeIsRegex: false,
          excludeIsRegex: false,
        },
      };
    case 'date_histogram':
      return {
        label: bucket.label ?? bucket.field,
        customLabel: bucket.label !== undefined,
        dataType: 'date',
        operationType: 'date_histogram',
        scale: 'interval',
        sourceField: bucket.field,
        isBucketed: true,
        params: { interval: 'auto', includeEmptyRows: true, dropPartials: false },
      };
    case 'filters':
      return {
        label: bucket.label ?? 'Filters',
        customLabel: bucket.label !== undefined,
        dataType: 'string',
        operationType: 'filters',
        scale: 'ordinal',
        isBucketed: true,
        params: { filters: bucket.filters.map((f) => ({ label: f.label, input: { language: 'kuery', query: f.kql } })) },
      };
  }
}

function metricColumn(metric: Metric): Column {
  const format = metric.format ? { format: metric.format } : {};
  const filter = 'kql' in metric && metric.kql ? { filter: { language: 'kuery', query: metric.kql } } : {};
  switch (metric.kind) {
    case 'count':
      return {
        label: metric.label,
        customLabel: true,
        dataType: 'number',
        operationType: 'count',
        isBucketed: false,
        scale: 'ratio',
        sourceField: '___records___',
        params: { emptyAsNull: false, ...format },
        ...filter,
      };
    case 'ratio':
      return {
        label: metric.label,
        customLabel: true,
        dataType: 'number',
        operationType: 'formula',
        isBucketed: false,
        scale: 'ratio',
        references: [],
        params: { formula: `count(kql='${metric.numerator}') / count(kql='${metric.denominator}')`, isFormulaBroken: false, ...format },
      };
    default:
      return {
        label: metric.label,
        customLabel: true,
        dataType: 'number',
        operationType: metric.kind,
        isBucketed: false,
        scale: 'ratio',
        sourceField: metric.field,
        params: { emptyAsNull: true, ...format },
        ...filter,
      };
  }
}

/** The layer's columns and the visualization state, by chart type. */
function layout(chart: Chart): { visualizationType: string; columns: [string, Column][]; visualization: Record<string, unknown> } {
  const metricIds = (metrics: Metric[]) => metrics.map((_, i) => `m${i}`);
  const base = { layerId: LAYER, layerType: 'data' };
  switch (chart.type) {
    case 'bar':
    case 'bar_stacked':
    case 'bar_horizontal':
    case 'line':
    case 'area': {
      const ids = metricIds(chart.metrics);
      const columns: [string, Column][] = [];
      if (chart.split) columns.push(['split', bucketColumn(chart.split, ids[0])]);
      columns.push(['x', bucketColumn(chart.x, chart.x.kind === 'terms' ? ids[0] : undefined)]);
      chart.metrics.forEach((m, i) => columns.push([ids[i]!, metricColumn(m)]));
      return {
        visualizationType: 'lnsXY',
        columns,
        visualization: {
          preferredSeriesType: chart.type,
          legend: { isVisible: chart.split !== undefined || chart.metrics.length > 1, position: 'right' },
          valueLabels: 'hide',
          layers: [
            {
              ...base,
              seriesType: chart.type,
              xAccessor: 'x',
              ...(chart.split && { splitAccessor: 'split' }),
              accessors: ids,
            },
          ],
        },
      };
    }
    case 'pie':
    case 'donut':
    case 'treemap': {
      const groups = chart.groups.map((_, i) => `g${i}`);
      return {
        visualizationType: 'lnsPie',
        columns: [...chart.groups.map((g, i): [string, Column] => [groups[i]!, bucketColumn(g, 'm0')]), ['m0', metricColumn(chart.metric)]],
        visualization: {
          shape: chart.type,
          layers: [
            {
              ...base,
              primaryGroups: groups,
              metrics: ['m0'],
              numberDisplay: 'percent',
              categoryDisplay: 'default',
              legendDisplay: 'default',
              nestedLegend: false,
            },
          ],
        },
      };
    }
    case 'heatmap':
      return {
        visualizationType: 'lnsHeatmap',
        columns: [
          ['y', bucketColumn(chart.y, undefined)],
          ['x', bucketColumn(chart.x, undefined)],
          ['m0', metricColumn(chart.metric)],
        ],
        visualization: {
          ...base,
          shape: 'heatmap',
          xAccessor: 'x',
          yAccessor: 'y',
          valueAccessor: 'm0',
          legend: { isVisible: true, position: 'right', type: 'heatmap_legend' },
          gridConfig: {
            type: 'heatmap_grid',
            isCellLabelVisible: true,
            isXAxisLabelVisible: true,
            isXAxisTitleVisible: true,
            isYAxisLabelVisible: true,
            isYAxisTitleVisible: true,
          },
        },
      };
    case 'metric':
      return {
        visualizationType: 'lnsMetric',
        columns: [['m0', metricColumn(chart.metric)]],
        visualization: { ...base, metricAccessor: 'm0' },
      };
    case 'table': {
      const rows = chart.rows.map((_, i) => `r${i}`);
      const ids = metricIds(chart.metrics);
      return {
        visualizationType: 'lnsDatatable',
        columns: [
          ...chart.rows.map((r, i): [string, Column] => [rows[i]!, bucketColumn(r, ids[0])]),
          ...chart.metrics.map((m, i): [string, Column] => [ids[i]!, metricColumn(m)]),
        ],
        visualization: { ...base, columns: [...rows, ...ids].map((columnId) => ({ columnId })) },
      };
    }
  }
}

export function lensObject(spec: LensSpec, dataViewId: string): SavedObject {
  const { visualizationType, columns, visualization } = layout(spec.chart);
  return {
    type: 'lens',
    id: spec.id,
    attributes: {
      title: spec.title,
      description: spec.description,
      visualizationType,
      state: {
        datasourceStates: {
          formBased: {
            layers: {
              [LAYER]: { columns: Object.fromEntries(columns), columnOrder: columns.map(([id]) => id), incompleteColumns: {} },
            },
          },
        },
        visualization,
        query: { language: 'kuery', query: spec.kql ?? '' },
        filters: [],
        internalReferences: [],
        adHocDataViews: {},
      },
    },
    references: [{ type: 'index-pattern', id: dataViewId, name: `indexpattern-datasource-layer-${LAYER}` }],
  };
}

export function dataViewObject(spec: DataViewSpec, prefix: string): SavedObject {
  return {
    type: 'index-pattern',
    id: spec.id,
    attributes: {
      title: `${prefix}-${spec.index}`,
      name: spec.name,
      ...(spec.timeField && { timeFieldName: spec.timeField }),
      fieldFormatMap: JSON.stringify(spec.formats ?? {}),
      sourceFilters: JSON.stringify((spec.hiddenFields ?? []).map((value) => ({ value }))),
      allowNoIndex: true,
    },
    references: [],
  };
}

export function dashboardObject(spec: DashboardSpec): SavedObject {
  const panels = spec.panels.map((p, i) => {
    const panelIndex = `p${i + 1}`;
    return {
      type: 'lens',
      panelIndex,
      gridData: { x: p.x, y: p.y, w: p.w, h: p.h, i: panelIndex },
      embeddableConfig: { enhancements: {} },
      panelRefName: `panel_${panelIndex}`,
    };
  });
  const controls = spec.controls ?? [];
  return {
    type: 'dashboard',
    id: spec.id,
    attributes: {
      title: spec.title,
      description: spec.description,
      panelsJSON: JSON.stringify(panels),
      optionsJSON: JSON.stringify({ useMargins: true, syncColors: false, syncCursor: true, syncTooltips: false, hidePanelTitles: false }),
      timeRestore: true,
      timeFrom: spec.timeFrom,
      timeTo: spec.timeTo,
      refreshInterval: { pause: true, value: 60_000 },
      kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: { language: 'kuery', query: '' }, filter: [] }) },
      ...(controls.length > 0 && {
        controlGroupInput: {
          controlStyle: 'oneLine',
          chainingSystem: 'HIERARCHICAL',
          showApplySelections: false,
          ignoreParentSettingsJSON: JSON.stringify({
            ignoreFilters: false,
            ignoreQuery: false,
            ignoreTimerange: false,
            ignoreValidations: false,
          }),
          panelsJSON: JSON.stringify(
            Object.fromEntries(
              controls.map((c, order) => [
                c.id,
                {
                  order,
                  width: 'large',
                  grow: true,
                  type: 'optionsListControl',
                  explicitInput: {
                    id: c.id,
                    dataViewId: c.dataView,
                    fieldName: c.field,
                    title: c.title,
                    singleSelect: c.singleSelect ?? false,
                    searchTechnique: 'prefix',
                    selectedOptions: [],
                    sort: { by: '_count', direction: 'desc' },
                  },
                },
              ]),
            ),
          ),
        },
      }),
    },
    references: [
      ...panels.map((p, i) => ({ type: 'lens', id: spec.panels[i]!.lens, name: `${p.panelIndex}:${p.panelRefName}` })),
      ...controls.map((c) => ({ type: 'index-pattern', id: c.dataView, name: `controlGroup_${c.id}:optionsListDataView` })),
    ],
  };
}
