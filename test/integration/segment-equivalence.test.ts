/**
 * The segment predicate and the compiled Elasticsearch query must select exactly the same profiles:
 * random definitions over every field kind, operator and node type, against realistic profiles folded
 * from random events (some with fields missing), indexed once into the real server.
 */
import fc from 'fast-check';
import {
  BEHAVIOUR_TYPES,
  DEFAULT_PROFILE_OPTIONS as OPTS,
  OPERATORS,
  SEGMENT_FIELDS,
  compileSegment,
  deriveProfile,
  foldEvents,
  indexNames,
  parseSegmentDefinition,
  segmentPredicate,
  startOfDay,
  type FieldSpec,
  type ProfileDoc,
  type QueuedEvent,
  type SegmentField,
} from '@portrait/shared';
import { bootstrapIndices, deletePrefix, type Client, type estypes } from '@portrait/runtime';
import { esClient, testPrefix } from '../support/stack';

const prefix = testPrefix('segeq');
const alias = indexNames(prefix).profiles;
const DAY = 86_400_000;
/** One instant for folding, compiling and predicating: relative dates resolve identically on both sides. */
const NOW = Date.parse('2026-06-15T13:45:30.250Z');
const PROFILES = 200;
const DEFINITIONS = 200;

const CATEGORIES = ['Shoes', 'shoes', 'Shoe care', 'Bags', 'Books', 'Toys'];
const BRANDS = ['Acme', 'acme', 'Zeta', 'Nova', 'Über'];
const REGIONS = ['Bavaria', 'bavaria', 'Berlin', 'Bremen', 'Hesse'];
const CITIES = ['München', 'Munich', 'Berlin', 'Bremen', 'Frankfurt'];
const OCCUPATIONS = ['engineer', 'Engineer', 'teacher', 'nurse'];
const PAYMENTS = ['card', 'Card', 'paypal', 'invoice'];

// ---------------------------------------------------------------- profiles

const iso = (ms: number) => new Date(ms).toISOString();

/** Instants that sit on the boundaries segments care about, as well as anywhere in the last 200 days. */
const instant = fc.oneof(
  fc.integer({ min: 0, max: 200 * DAY }).map((back) => NOW - back),
  fc.integer({ min: 0, max: 120 }).map((days) => NOW - days * DAY),
  fc.integer({ min: 0, max: 120 }).map((days) => startOfDay(NOW) - days * DAY),
  fc.integer({ min: 1, max: 120 }).map((days) => startOfDay(NOW) - days * DAY - 1),
);

/** The same instant written the ways a client may: UTC, with an offset, with microseconds. */
const timestampText = (ms: number) =>
  fc.oneof(
    fc.constant(iso(ms)),
    fc.constantFrom(-330, -60, 60, 90, 120).map((offsetMin) => {
      const local = iso(ms + offsetMin * 60_000).slice(0, -1);
      const sign = offsetMin < 0 ? '-' : '+';
      const abs = Math.abs(offsetMin);
      return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    }),
    fc.integer({ min: 0, max: 999 }).map((micros) => `${iso(ms).slice(0, -1)}${String(micros).padStart(3, '0')}Z`),
  );

const line = fc.record({
  itemId: fc.constantFrom('i1', 'i2', 'i3'),
  quantity: fc.integer({ min: 1, max: 4 }),
  unitPrice: fc.oneof(
    fc.constantFrom(5, 19.99, 20, 99.5, 250, 800),
    fc.integer({ min: 1, max: 90_000 }).map((c) => c / 100),
  ),
  category: fc.option(
    fc.constantFrom(...CATEGORIES).map((c) => [c]),
    { nil: undefined },
  ),
  brand: fc.option(fc.constantFrom(...BRANDS), { nil: undefined }),
});

const attributes = fc.record(
  {
    gender: fc.constantFrom('female', 'male', 'other', 'unknown'),
    birthYear: fc.integer({ min: 1940, max: 2012 }),
    occupation: fc.constantFrom(...OCCUPATIONS),
    region: fc.constantFrom(...REGIONS),
    city: fc.constantFrom(...CITIES),
    signupDate: fc.integer({ min: 0, max: 900 * DAY }).chain((back) => timestampText(NOW - back)),
    consents: fc.record(
      { email: fc.boolean(), sms: fc.boolean(), push: fc.boolean(), ads: fc.boolean(), personalization: fc.boolean() },
      {
        requiredKeys: [],
      },
    ),
  },
  { requiredKeys: [] },
);

const eventBody = fc.oneof(
  fc.record({
    type: fc.constant('page_view' as const),
    itemId: fc.constantFrom('i1', 'i2'),
    category: fc.option(
      fc.constantFrom(...CATEGORIES).map((c) => [c]),
      { nil: undefined },
    ),
    brand: fc.option(fc.constantFrom(...BRANDS), { nil: undefined }),
  }),
  fc.record({ type: fc.constant('search' as const), query: fc.constantFrom('red shoes', 'bag', 'Books') }),
  fc.record({
    type: fc.constantFrom('add_to_cart' as const, 'remove_from_cart' as const),
    itemId: fc.constantFrom('i1', 'i2'),
    quantity: fc.integer({ min: 1, max: 3 }),
    category: fc.option(
      fc.constantFrom(...CATEGORIES).map((c) => [c]),
      { nil: undefined },
    ),
    brand: fc.option(fc.constantFrom(...BRANDS), { nil: undefined }),
  }),
  fc
    .record({
      lines: fc.array(line, { minLength: 1, maxLength: 3 }),
      currency: fc.constantFrom('EUR', 'EUR', 'EUR', 'USD'),
      paymentMethod: fc.constantFrom(...PAYMENTS),
    })
    .map(({ lines, currency, paymentMethod }) => ({
      type: 'purchase' as const,
      order: {
        orderId: 'o',
        lines,
        currency,
        paymentMethod,
        amount: Math.round(lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0) * 100) / 100,
      },
    })),
  fc.record({ type: fc.constant('review' as const), itemId: fc.constantFrom('i1', 'i2'), rating: fc.integer({ min: 1, max: 5 }) }),
  attributes.filter((a) => Object.keys(a).length > 0).map((a) => ({ type: 'user_attributes' as const, attributes: a })),
);

const userEvents = fc.array(fc.tuple(eventBody, instant), { maxLength: 30 });

/** Optional parts a stored profile may lack (older documents, partial writes): removed from some. */
const REMOVABLE = [
  'attributes.region',
  'attributes.consents.email',
  'behavior.lastSeen',
  'behavior.counts.purchase',
  'interests.topCategories',
  'interests.categories',
  'purchases.lastPurchaseAt',
  'purchases.totalSpend',
  'reviews',
];

function removePath(doc: Record<string, any>, path: string): void {
  const parts = path.split('.');
  let node = doc;
  for (const part of parts.slice(0, -1)) node = node?.[part];
  if (node) delete node[parts[parts.length - 1]!];
}

function buildProfiles(): ProfileDoc[] {
  const histories = fc.sample(fc.tuple(userEvents, fc.subarray(REMOVABLE, { maxLength: 3 }), fc.integer({ min: 0, max: 9 })), {
    numRuns: PROFILES,
    seed: 20_260_615,
  });
  return histories.map(([history, removable, dice], u) => {
    const userId = `u${String(u).padStart(3, '0')}`;
    const events = history.map(
      ([body, at], i) =>
        ({
          ...body,
          ...(body.type === 'purchase' ? { order: { ...body.order, orderId: `${userId}-o${i}` } } : {}),
          userId,
          eventId: `${userId}-e${i}`,
          timestamp: iso(at),
          receivedAt: at + 1000,
        }) as QueuedEvent,
    );
    const { state } = foldEvents(undefined, events, NOW, OPTS);
    const doc = deriveProfile(userId, state, NOW, NOW, OPTS);
    if (dice < 2) for (const path of removable) removePath(doc as unknown as Record<string, any>, path);
    return doc;
  });
}

// ---------------------------------------------------------------- definitions

type Raw = Record<string, unknown>;

/** Every value each field holds across the profiles, so conditions hit real values and their edges. */
function observedValues(docs: ProfileDoc[]): Map<string, unknown[]> {
  const seen = new Map<string, Set<unknown>>();
  const add = (key: string, value: unknown) => {
    if (value === undefined || value === null) return;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (!seen.has(key)) seen.set(key, new Set());
      seen.get(key)!.add(v);
    }
  };
  for (const doc of docs) {
    for (const field of Object.keys(SEGMENT_FIELDS)) {
      let node: any = doc;
      for (const part of field.split('.')) node = node?.[part];
      add(field, node);
    }
    for (const kind of ['categories', 'brands'] as const) {
      for (const i of doc.interests?.[kind] ?? []) {
        add(`${kind}.name`, i.name);
        add(`${kind}.score`, i.score);
      }
    }
  }
  return new Map([...seen].map(([k, v]) => [k, [...v]]));
}

function definitions(observed: Map<string, unknown[]>): fc.Arbitrary<Raw> {
  const seen = (key: string) => observed.get(key) ?? [];
  const fields = Object.keys(SEGMENT_FIELDS) as SegmentField[];
  const allKeywords = [...CATEGORIES, ...BRANDS, ...REGIONS, ...CITIES, ...OCCUPATIONS, ...PAYMENTS, 'female', 'EUR', 'u007', 'zzz'];

  const keyword = (field: SegmentField, spec: FieldSpec): fc.Arbitrary<string> =>
    spec.values
      ? fc.constantFrom(...spec.values)
      : fc.oneof(...(seen(field).length > 0 ? [fc.constantFrom(...(seen(field) as string[]))] : []), fc.constantFrom(...allKeywords));

  const someNumber = (field: SegmentField, integer: boolean): fc.Arbitrary<number> => {
    const observedNums = seen(field) as number[];
    const near = observedNums.length
      ? fc.tuple(fc.constantFrom(...observedNums), fc.constantFrom(0, 0, 1, -1, 0.5, -0.5, 0.001)).map(([v, d]) => v + d)
      : fc.integer({ min: 0, max: 10 });
    const any = integer ? fc.integer({ min: -5, max: 3000 }) : fc.double({ min: -5, max: 3000, noNaN: true, noDefaultInfinity: true });
    return integer ? fc.oneof(near.map(Math.round), any) : fc.oneof(near, any);
  };
  // Bounds mostly sit exactly on stored values, where inclusive and exclusive differ.
  const bound = (field: SegmentField): fc.Arbitrary<number> =>
    fc.oneof(
      {
        weight: seen(field).length > 0 ? 3 : 0,
        arbitrary: fc.constantFrom(...((seen(field) as number[]).length ? (seen(field) as number[]) : [0])),
      },
      { weight: 2, arbitrary: someNumber(field, false) },
      { weight: 1, arbitrary: fc.constantFrom(-2_147_483_648, 2_147_483_647, 0, 0.5, 2.5, -1.5) },
    );

  /** A date bound as a client would write it: any of several spellings of an interesting instant. */
  const observedInstants = [
    ...new Set(Object.keys(SEGMENT_FIELDS).flatMap((f) => (SEGMENT_FIELDS[f as SegmentField].kind === 'date' ? seen(f) : []))),
  ]
    .map((v) => Date.parse(v as string))
    .filter((ms) => !Number.isNaN(ms));
  const dateInstant = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...observedInstants) },
    fc.integer({ min: 0, max: 400 }).map((d) => NOW - d * DAY),
    fc.integer({ min: 0, max: 400 }).map((d) => startOfDay(NOW) - d * DAY),
  );
  const dateText = (ms: number) => (ms % DAY === 0 ? fc.oneof(timestampText(ms), fc.constant(iso(ms).slice(0, 10))) : timestampText(ms));

  const numberRange = (field: SegmentField): fc.Arbitrary<Raw> =>
    fc
      .tuple(fc.option(bound(field), { nil: undefined }), fc.option(bound(field), { nil: undefined }), fc.boolean(), fc.boolean())
      .filter(([a, b]) => a !== undefined || b !== undefined)
      .map(([a, b, strictLow, strictHigh]) => {
        if (a !== undefined && b !== undefined) {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          if (lo === hi) return { gte: lo, lte: hi };
          return { [strictLow ? 'gt' : 'gte']: lo, [strictHigh ? 'lt' : 'lte']: hi };
        }
        const v = (a ?? b)!;
        return a !== undefined ? { [strictLow ? 'gt' : 'gte']: v } : { [strictHigh ? 'lt' : 'lte']: v };
      });

  const dateRange: fc.Arbitrary<Raw> = fc.oneof(
    // absolute bounds
    fc
      .tuple(fc.option(dateInstant, { nil: undefined }), fc.option(dateInstant, { nil: undefined }), fc.boolean(), fc.boolean())
      .filter(([a, b]) => a !== undefined || b !== undefined)
      .chain(([a, b, strictLow, strictHigh]) => {
        if (a !== undefined && b !== undefined) {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const [lk, hk] = lo === hi ? ['gte', 'lte'] : [strictLow ? 'gt' : 'gte', strictHigh ? 'lt' : 'lte'];
          return fc.tuple(dateText(lo), dateText(hi)).map(([l, h]) => ({ [lk]: l, [hk]: h }));
        }
        const v = (a ?? b)!;
        const key = a !== undefined ? (strictLow ? 'gt' : 'gte') : strictHigh ? 'lt' : 'lte';
        return dateText(v).map((t) => ({ [key]: t }));
      }),
    // relative bounds, alone, together, or against an absolute one
    fc.integer({ min: 1, max: 200 }).map((days) => ({ last: { days } })),
    fc.integer({ min: 1, max: 200 }).map((days) => ({ olderThan: { days } })),
    fc
      .uniqueArray(fc.integer({ min: 1, max: 200 }), { minLength: 2, maxLength: 2 })
      .map(([x, y]) => ({ last: { days: Math.max(x!, y!) }, olderThan: { days: Math.min(x!, y!) } })),
    fc.tuple(fc.integer({ min: 1, max: 200 }), dateInstant).chain(([days, ms]) => dateText(ms).map((t) => ({ last: { days }, lt: t }))),
    fc
      .tuple(fc.integer({ min: 1, max: 200 }), dateInstant)
      .chain(([days, ms]) => dateText(ms).map((t) => ({ olderThan: { days }, gte: t }))),
  );

  // Kind first, then field: otherwise the 24 behaviour counters would crowd out the rarer kinds.
  const byKind = (['keyword', 'number', 'date', 'boolean'] as const).map((kind) => fields.filter((f) => SEGMENT_FIELDS[f].kind === kind));
  const fieldCondition: fc.Arbitrary<Raw> = fc
    .constantFrom(...byKind)
    .chain((ofKind) => fc.constantFrom(...ofKind))
    .chain((field) => {
      const spec = SEGMENT_FIELDS[field];
      return fc.constantFrom(...OPERATORS[spec.kind]).chain((op): fc.Arbitrary<Raw> => {
        const head = { field, op };
        const integer = spec.integer === true;
        switch (op) {
          case 'exists':
            return fc.constant(head);
          case 'eq':
            if (spec.kind === 'boolean') return fc.boolean().map((value) => ({ ...head, value }));
            if (spec.kind === 'number') return someNumber(field, integer).map((value) => ({ ...head, value }));
            return keyword(field, spec).map((value) => ({ ...head, value }));
          case 'in':
            if (spec.kind === 'number')
              return fc.uniqueArray(someNumber(field, integer), { minLength: 1, maxLength: 4 }).map((values) => ({ ...head, values }));
            return fc.uniqueArray(keyword(field, spec), { minLength: 1, maxLength: 4 }).map((values) => ({ ...head, values }));
          case 'prefix':
            return fc.tuple(keyword(field, spec), fc.integer({ min: 1, max: 4 }), fc.boolean()).map(([v, n, flip]) => {
              const p = v.slice(0, n) || 'x';
              return { ...head, value: flip ? p.toUpperCase() : p };
            });
          case 'range':
            return (spec.kind === 'date' ? dateRange : numberRange(field)).map((bounds) => ({ ...head, ...bounds }));
        }
      });
    });

  const eventCondition: fc.Arbitrary<Raw> = fc
    .record(
      {
        type: fc.constantFrom(...BEHAVIOUR_TYPES),
        atLeast: fc.integer({ min: 0, max: 6 }),
        atMost: fc.integer({ min: 0, max: 6 }),
        inLastDays: fc.constantFrom(7, 30, 90),
      },
      { requiredKeys: ['type'] },
    )
    .map((e) => (e.atLeast !== undefined && e.atMost !== undefined && e.atLeast > e.atMost ? { ...e, atMost: e.atLeast } : e))
    .map((event) => ({ event }));

  const interestCondition: fc.Arbitrary<Raw> = fc.constantFrom('category' as const, 'brand' as const).chain((kind) => {
    const key = kind === 'category' ? 'categories' : 'brands';
    const names = [...(seen(`${key}.name`) as string[]), ...(kind === 'category' ? CATEGORIES : BRANDS)];
    const scores = seen(`${key}.score`) as number[];
    return fc
      .record(
        {
          name: fc.constantFrom(...names),
          above: fc.oneof(...(scores.length ? [fc.constantFrom(...scores)] : []), fc.double({ min: 0, max: 12, noNaN: true })),
        },
        { requiredKeys: ['name'] },
      )
      .map((i) => ({ interest: { kind, ...i } }));
  });

  const leaf = fc.oneof(
    { weight: 6, arbitrary: fieldCondition },
    { weight: 2, arbitrary: eventCondition },
    { weight: 2, arbitrary: interestCondition },
  );
  const { node } = fc.letrec<{ node: Raw; and: Raw; or: Raw; not: Raw }>((tie) => ({
    node: fc.oneof({ depthSize: 'small', maxDepth: 4 }, leaf, tie('and'), tie('or'), tie('not')),
    and: fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((and) => ({ and })),
    or: fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((or) => ({ or })),
    not: tie('node').map((not) => ({ not })),
  }));
  return node;
}

/** The kinds of node a definition uses: "keyword:eq", "date:range", "event", "not", ... */
function nodeKinds(def: unknown, out = new Set<string>()): Set<string> {
  const node = def as Record<string, any>;
  if (node.and || node.or) for (const child of node.and ?? node.or) nodeKinds(child, out.add(node.and ? 'and' : 'or'));
  else if (node.not) nodeKinds(node.not, out.add('not'));
  else if (node.event) out.add('event');
  else if (node.interest) out.add('interest');
  else out.add(`${SEGMENT_FIELDS[node.field as SegmentField].kind}:${node.op}`);
  return out;
}

// ---------------------------------------------------------------- the test

let es: Client;
let docs: ProfileDoc[];

beforeAll(async () => {
  es = esClient();
  await bootstrapIndices(es, prefix);
  docs = buildProfiles();
  const result = await es.bulk({ refresh: true, operations: docs.flatMap((doc) => [{ index: { _index: alias, _id: doc.userId } }, doc]) });
  const failed = result.items.find((item) => item.index?.error);
  if (failed) throw new Error(`profile rejected by the mapping: ${JSON.stringify(failed.index?.error)}`);
});

afterAll(async () => {
  await deletePrefix(es, prefix);
  await es.close();
});

async function selectedByElasticsearch(query: estypes.QueryDslQueryContainer): Promise<string[]> {
  const res = await es.search({ index: alias, query, size: PROFILES, _source: false, track_total_hits: true });
  return res.hits.hits.map((h) => h._id!).sort();
}

it('indexes varied profiles: folded histories, empty ones and ones with fields missing', async () => {
  const count = await es.count({ index: alias });
  expect(count.count).toBe(PROFILES);
  expect(docs.filter((d) => d.behavior.eventCount === 0).length).toBeGreaterThan(0);
  expect(docs.filter((d) => d.attributes.region === undefined).length).toBeGreaterThan(10);
  expect(docs.filter((d) => d.attributes.region !== undefined).length).toBeGreaterThan(10);
  expect(docs.filter((d) => (d.interests.categories?.length ?? 0) > 1).length).toBeGreaterThan(10);
  expect(docs.filter((d) => d.purchases.orders > 0).length).toBeGreaterThan(10);
});

it('selects exactly the profiles the in-process predicate selects, for random definitions', async () => {
  const observed = observedValues(docs);
  const kinds = new Set<string>();
  let informative = 0;

  await fc.assert(
    fc.asyncProperty(definitions(observed), async (raw) => {
      const parsed = parseSegmentDefinition(raw);
      if (!parsed.ok) throw new Error(`generated an invalid definition ${JSON.stringify(raw)}: ${JSON.stringify(parsed.issues)}`);
      const def = parsed.value;
      const predicate = segmentPredicate(def, NOW);
      const expected = docs
        .filter((d) => predicate(d))
        .map((d) => d.userId)
        .sort();
      const actual = await selectedByElasticsearch(compileSegment(def, NOW) as estypes.QueryDslQueryContainer);
      if (actual.join() !== expected.join()) {
        const onlyEs = actual.filter((id) => !expected.includes(id));
        const onlyPredicate = expected.filter((id) => !actual.includes(id));
        const example = docs.find((d) => d.userId === (onlyEs[0] ?? onlyPredicate[0]));
        const { state: _state, ...shown } = example ?? ({} as ProfileDoc);
        throw new Error(
          `definition ${JSON.stringify(def)}\nquery ${JSON.stringify(compileSegment(def, NOW))}\n` +
            `only Elasticsearch: ${onlyEs.join(', ') || '-'}; only predicate: ${onlyPredicate.join(', ') || '-'}\n` +
            `first differing profile: ${JSON.stringify(shown)}`,
        );
      }
      nodeKinds(def, kinds);
      if (expected.length > 0 && expected.length < PROFILES) informative++;
    }),
    { numRuns: DEFINITIONS },
  );

  // The comparison means something only if definitions split the profiles and cover the language.
  expect(informative).toBeGreaterThan(DEFINITIONS * 0.4);
  for (const kind of [
    'and',
    'or',
    'not',
    'event',
    'interest',
    'keyword:eq',
    'keyword:in',
    'keyword:prefix',
    'number:range',
    'date:range',
    'boolean:eq',
  ]) {
    expect({ kind, covered: kinds.has(kind) }).toEqual({ kind, covered: true });
  }
});
