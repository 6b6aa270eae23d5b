/**
 * Portrait's Kibana objects: four data views, the Lens panels, the "Portrait overview" dashboard and the
 * "Portrait segment" dashboard (a segment control over the profile panels). Ids carry the index prefix, so two
 * data sets can live in one Kibana. `npm run kibana -- generate` writes them to infra/kibana/portrait.ndjson.
 */
import {
  dashboardObject,
  dataViewObject,
  lensObject,
  type DashboardSpec,
  type DataViewSpec,
  type LensSpec,
  type SavedObject,
} from './lens';

const MONEY = { id: 'number', params: { pattern: '0,0.00' } } as const;
const PERCENT = { id: 'percent', params: { pattern: '0.0%' } } as const;
const INTEGER = { id: 'number', params: { pattern: '0,0' } } as const;

const DATA_VIEWS: DataViewSpec[] = [
  {
    id: 'profiles',
    name: 'Portrait profiles',
    index: 'profiles',
    formats: {
      'purchases.totalSpend': MONEY,
      'purchases.avgOrderValue': MONEY,
      'purchases.spend30d': MONEY,
      'purchases.spend90d': MONEY,
      'propensity.purchase': PERCENT,
      'propensity.churn': PERCENT,
      'risk.score': PERCENT,
    },
    // Contact data and the fold's internal state stay out of Discover.
    hiddenFields: ['contact.*', 'state', 'segmentOutbox'],
  },
  {
    id: 'events',
    name: 'Portrait events',
    index: 'events',
    timeField: 'timestamp',
    formats: { price: MONEY, 'order.amount': MONEY },
    hiddenFields: ['order.lines'],
  },
  { id: 'items', name: 'Portrait items', index: 'items', formats: { price: MONEY }, hiddenFields: ['content'] },
  {
    id: 'segment-sizes',
    name: 'Portrait segment sizes',
    index: 'segment-sizes',
    timeField: 'takenAt',
    formats: { size: INTEGER, profiles: INTEGER, share: PERCENT },
  },
];

const COUNT_PROFILES = { kind: 'count', label: 'Profiles', format: INTEGER } as const;
const COUNT_EVENTS = { kind: 'count', label: 'Events', format: INTEGER } as const;

const LENS: LensSpec[] = [
  {
    id: 'profiles-total',
    title: 'Profiles',
    description: 'How many shoppers have a profile.',
    dataView: 'profiles',
    chart: { type: 'metric', metric: COUNT_PROFILES },
  },
  {
    id: 'revenue-total',
    title: 'Revenue',
    description: 'The sum of every order in the time range.',
    dataView: 'events',
    kql: 'type : purchase',
    chart: { type: 'metric', metric: { kind: 'sum', field: 'order.amount', label: 'Revenue', format: MONEY } },
  },
  {
    id: 'orders-total',
    title: 'Orders',
    description: 'Purchases in the time range.',
    dataView: 'events',
    kql: 'type : purchase',
    chart: { type: 'metric', metric: { kind: 'count', label: 'Orders', format: INTEGER } },
  },
  {
    id: 'value-tiers',
    title: 'Profiles by value tier',
    description: 'How the customer base splits into RFM value tiers (the active RFM model).',
    dataView: 'profiles',
    chart: { type: 'donut', groups: [{ kind: 'terms', field: 'value.tier', size: 10, label: 'Value tier' }], metric: COUNT_PROFILES },
  },
  {
    id: 'lifecycle-stages',
    title: 'Profiles by lifecycle stage',
    description: 'New, active, at risk, lapsed: where shoppers are in their lifecycle.',
    dataView: 'profiles',
    chart: { type: 'bar', x: { kind: 'terms', field: 'lifecycle.stage', size: 10, label: 'Lifecycle stage' }, metrics: [COUNT_PROFILES] },
  },
  {
    id: 'cluster-sizes',
    title: 'Behaviour clusters',
    description: 'Profiles per behaviour cluster, by the label the clustering model gave it.',
    dataView: 'profiles',
    chart: { type: 'bar_horizontal', x: { kind: 'terms', field: 'cluster.label', size: 20, label: 'Cluster' }, metrics: [COUNT_PROFILES] },
  },
  {
    id: 'rfm-grid',
    title: 'RFM grid',
    description: 'Recency score against frequency score (1 to 5): each cell is how many shoppers share that pair.',
    dataView: 'profiles',
    chart: {
      type: 'heatmap',
      x: { kind: 'terms', field: 'rfm.r', size: 5, label: 'Recency score' },
      y: { kind: 'terms', field: 'rfm.f', size: 5, label: 'Frequency score' },
      metric: COUNT_PROFILES,
    },
  },
  {
    id: 'age-gender',
    title: 'Age band by gender',
    description: 'Who the shoppers are: age bands, split by gender.',
    dataView: 'profiles',
    chart: {
      type: 'bar_stacked',
      x: { kind: 'terms', field: 'attributes.ageBand', size: 10, label: 'Age band' },
      split: { kind: 'terms', field: 'attributes.gender', size: 5, label: 'Gender' },
      metrics: [COUNT_PROFILES],
    },
  },
  {
    id: 'regions',
    title: 'Profiles by region',
    description: 'Where the shoppers live.',
    dataView: 'profiles',
    chart: { type: 'treemap', groups: [{ kind: 'terms', field: 'attributes.region', size: 20, label: 'Region' }], metric: COUNT_PROFILES },
  },
  {
    id: 'top-categories',
    title: 'Top categories',
    description: 'The categories shoppers view and put in their carts most.',
    dataView: 'events',
    chart: { type: 'bar_horizontal', x: { kind: 'terms', field: 'category', size: 10, label: 'Category' }, metrics: [COUNT_EVENTS] },
  },
  {
    id: 'top-brands',
    title: 'Top brands',
    description: 'The brands shoppers view and put in their carts most.',
    dataView: 'events',
    chart: { type: 'bar_horizontal', x: { kind: 'terms', field: 'brand', size: 10, label: 'Brand' }, metrics: [COUNT_EVENTS] },
  },
  {
    id: 'events-over-time',
    title: 'Events over time by type',
    description: 'Behaviour as it arrives: views, searches, carts, purchases, reviews and recommendation feedback.',
    dataView: 'events',
    chart: {
      type: 'bar_stacked',
      x: { kind: 'date_histogram', field: 'timestamp', label: 'Time' },
      split: { kind: 'terms', field: 'type', size: 10, label: 'Event type' },
      metrics: [COUNT_EVENTS],
    },
  },
  {
    id: 'funnel',
    title: 'View, cart, purchase',
    description: 'The shopping funnel: product views, add-to-carts and purchases in the time range.',
    dataView: 'events',
    chart: {
      type: 'bar',
      x: {
        kind: 'filters',
        label: 'Step',
        filters: [
          { label: '1. Viewed', kql: 'type : page_view' },
          { label: '2. Added to cart', kql: 'type : add_to_cart' },
          { label: '3. Purchased', kql: 'type : purchase' },
        ],
      },
      metrics: [COUNT_EVENTS],
    },
  },
  {
    id: 'revenue-over-time',
    title: 'Revenue over time',
    description: 'The sum of order amounts per interval.',
    dataView: 'events',
    kql: 'type : purchase',
    chart: {
      type: 'area',
      x: { kind: 'date_histogram', field: 'timestamp', label: 'Time' },
      metrics: [{ kind: 'sum', field: 'order.amount', label: 'Revenue', format: MONEY }],
    },
  },
  {
    id: 'recommendation-ctr',
    title: 'Recommendation click-through by strategy',
    description: 'Clicks per impression of the recommendations shown, by the strategy that proposed them.',
    dataView: 'events',
    kql: 'type : (recommendation_impression or recommendation_click)',
    chart: {
      type: 'bar',
      x: { kind: 'terms', field: 'strategy', size: 10, label: 'Strategy' },
      metrics: [
        {
          kind: 'ratio',
          label: 'Click-through rate',
          numerator: 'type : recommendation_click',
          denominator: 'type : recommendation_impression',
          format: PERCENT,
        },
      ],
    },
  },
  {
    id: 'segment-sizes-over-time',
    title: 'Segment sizes over time',
    description: 'Members of each segment at every snapshot (the segment-snapshot job, hourly by default).',
    dataView: 'segment-sizes',
    chart: {
      type: 'line',
      x: { kind: 'date_histogram', field: 'takenAt', label: 'Time' },
      split: { kind: 'terms', field: 'name', size: 20, label: 'Segment' },
      metrics: [{ kind: 'max', field: 'size', label: 'Members', format: INTEGER }],
    },
  },
  {
    id: 'segment-members',
    title: 'Members',
    description: 'Profiles in the segment (all profiles until one is chosen above).',
    dataView: 'profiles',
    chart: { type: 'metric', metric: COUNT_PROFILES },
  },
  {
    id: 'segment-spend',
    title: 'Average lifetime spend',
    description: 'What a member has spent on average.',
    dataView: 'profiles',
    chart: { type: 'metric', metric: { kind: 'average', field: 'purchases.totalSpend', label: 'Average spend', format: MONEY } },
  },
  {
    id: 'segment-propensity',
    title: 'Average purchase propensity',
    description: 'The purchase model’s average probability that a member buys in its horizon.',
    dataView: 'profiles',
    chart: { type: 'metric', metric: { kind: 'average', field: 'propensity.purchase', label: 'Purchase propensity', format: PERCENT } },
  },
  {
    id: 'segment-interests',
    title: 'Top interests',
    description: 'The categories members are most interested in (their top categories).',
    dataView: 'profiles',
    chart: {
      type: 'bar_horizontal',
      x: { kind: 'terms', field: 'interests.topCategories', size: 10, label: 'Category' },
      metrics: [COUNT_PROFILES],
    },
  },
];

const OVERVIEW: DashboardSpec = {
  id: 'overview',
  title: 'Portrait overview',
  description: 'Who the shoppers are, what they do, what they are worth, and how the segments and recommendations do.',
  timeFrom: 'now-1y',
  timeTo: 'now',
  panels: [
    { lens: 'profiles-total', x: 0, y: 0, w: 16, h: 6 },
    { lens: 'orders-total', x: 16, y: 0, w: 16, h: 6 },
    { lens: 'revenue-total', x: 32, y: 0, w: 16, h: 6 },
    { lens: 'value-tiers', x: 0, y: 6, w: 16, h: 14 },
    { lens: 'lifecycle-stages', x: 16, y: 6, w: 16, h: 14 },
    { lens: 'cluster-sizes', x: 32, y: 6, w: 16, h: 14 },
    { lens: 'rfm-grid', x: 0, y: 20, w: 24, h: 16 },
    { lens: 'age-gender', x: 24, y: 20, w: 24, h: 16 },
    { lens: 'top-categories', x: 0, y: 36, w: 16, h: 14 },
    { lens: 'top-brands', x: 16, y: 36, w: 16, h: 14 },
    { lens: 'regions', x: 32, y: 36, w: 16, h: 14 },
    { lens: 'events-over-time', x: 0, y: 50, w: 48, h: 14 },
    { lens: 'funnel', x: 0, y: 64, w: 16, h: 14 },
    { lens: 'revenue-over-time', x: 16, y: 64, w: 32, h: 14 },
    { lens: 'recommendation-ctr', x: 0, y: 78, w: 16, h: 14 },
    { lens: 'segment-sizes-over-time', x: 16, y: 78, w: 32, h: 14 },
  ],
};

const SEGMENT: DashboardSpec = {
  id: 'segment',
  title: 'Portrait segment',
  description: 'One segment: choose it above. Its members by value, lifecycle, cluster, region and age, and its size over time.',
  timeFrom: 'now-1y',
  timeTo: 'now',
  // Profiles carry their segment ids in `segments`; the size snapshots have `segments` as an alias of segmentId.
  controls: [{ id: 'segment', dataView: 'profiles', field: 'segments', title: 'Segment', singleSelect: true }],
  panels: [
    { lens: 'segment-members', x: 0, y: 0, w: 16, h: 6 },
    { lens: 'segment-spend', x: 16, y: 0, w: 16, h: 6 },
    { lens: 'segment-propensity', x: 32, y: 0, w: 16, h: 6 },
    { lens: 'segment-sizes-over-time', x: 0, y: 6, w: 48, h: 12 },
    { lens: 'value-tiers', x: 0, y: 18, w: 16, h: 14 },
    { lens: 'lifecycle-stages', x: 16, y: 18, w: 16, h: 14 },
    { lens: 'cluster-sizes', x: 32, y: 18, w: 16, h: 14 },
    { lens: 'age-gender', x: 0, y: 32, w: 24, h: 14 },
    { lens: 'regions', x: 24, y: 32, w: 24, h: 14 },
    { lens: 'segment-interests', x: 0, y: 46, w: 24, h: 14 },
    { lens: 'rfm-grid', x: 24, y: 46, w: 24, h: 14 },
  ],
};

/** Every saved object for one index prefix, data views first (the order the import resolves them in). */
export function savedObjects(prefix: string): SavedObject[] {
  const id = (local: string) => `${prefix}-${local}`;
  const views = DATA_VIEWS.map((v) => dataViewObject({ ...v, id: id(`dv-${v.id}`) }, prefix));
  const lens = LENS.map((l) => lensObject({ ...l, id: id(`lens-${l.id}`) }, id(`dv-${l.dataView}`)));
  const dashboards = [OVERVIEW, SEGMENT].map((d) =>
    dashboardObject({
      ...d,
      id: id(d.id),
      panels: d.panels.map((p) => ({ ...p, lens: id(`lens-${p.lens}`) })),
      controls: d.controls?.map((c) => ({ ...c, dataView: id(`dv-${c.dataView}`) })),
    }),
  );
  return [...views, ...lens, ...dashboards];
}

/** One object per line, as the saved-objects import API and Kibana's UI read them. */
export function toNdjson(objects: readonly SavedObject[]): string {
  return objects.map((o) => JSON.stringify(o)).join('\n') + '\n';
}
