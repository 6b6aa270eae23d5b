import { z } from 'zod';
import {
  DEFAULT_PROFILE_OPTIONS as OPTS,
  SEGMENT_LIMITS,
  SegmentDefinitionSchema,
  closeFields,
  compileSegment,
  deriveProfile,
  foldEvents,
  parseSegmentDefinition,
  segmentPredicate,
  toIssues,
  type Issue,
  type SegmentDefinition,
} from '@portrait/shared';
import { queued } from '../support/events';

const NOW = Date.parse('2026-11-23T12:00:00.000Z');
const DAY = 86_400_000;
const ago = (days: number): string => new Date(NOW - days * DAY).toISOString();

/** The issues of an invalid definition (fails the test if it is valid). */
function issuesOf(raw: unknown): Issue[] {
  const parsed = parseSegmentDefinition(raw);
  if (parsed.ok) throw new Error(`expected ${JSON.stringify(raw)} to be invalid`);
  return parsed.issues;
}

const valid = (raw: unknown): SegmentDefinition => {
  const parsed = parseSegmentDefinition(raw);
  if (!parsed.ok) throw new Error(`expected a valid definition, got ${JSON.stringify(parsed.issues)}`);
  return parsed.value;
};

const region = { field: 'attributes.region', op: 'eq', value: 'Bavaria' };

describe('parseSegmentDefinition', () => {
  it('accepts every node type and returns a copy of the definition', () => {
    const raw = {
      and: [
        region,
        { field: 'purchases.paymentMethods', op: 'in', values: ['paypal', 'card'] },
        { field: 'attributes.city', op: 'prefix', value: 'Mün' },
        { field: 'attributes.signupDate', op: 'exists' },
        { field: 'purchases.totalSpend', op: 'range', gte: 100, lt: 500.5 },
        { field: 'purchases.lastPurchaseAt', op: 'range', last: { days: 90 }, olderThan: { days: 30 } },
        { field: 'behavior.lastSeen', op: 'range', gte: '2026-01-01', lt: '2026-06-01T00:00:00+02:00' },
        { field: 'attributes.consents.email', op: 'eq', value: true },
        { or: [{ event: { type: 'purchase', atLeast: 2, inLastDays: 30 } }, { event: { type: 'review' } }] },
        { not: { interest: { kind: 'category', name: 'Shoes', above: 0.5 } } },
        { field: 'lifecycle.stage', op: 'in', values: ['active', 'at_risk'] },
      ],
    };
    const parsed = valid(raw);
    expect(parsed).toEqual(raw);
    expect(parsed).not.toBe(raw);
  });

  it('points an unknown field at its node and suggests close field names', () => {
    const issues = issuesOf({ and: [region, region, { or: [{ field: 'attributes.regoin', op: 'eq', value: 'x' }] }] });
    expect(issues).toEqual([{ path: 'definition.and.2.or.0.field', reason: expect.stringContaining('unknown field "attributes.regoin"') }]);
    expect(issues[0]!.reason).toContain('did you mean attributes.region');
    expect(closeFields('totalSpend')).toEqual(['purchases.totalSpend']);
    expect(closeFields('lifecycle.stag')[0]).toBe('lifecycle.stage');
    expect(closeFields('no.such.thing.at.all')).toEqual([]);
  });

  it('rejects an operator that the field kind does not take, naming the ones it does', () => {
    expect(issuesOf({ field: 'purchases.orders', op: 'prefix', value: '1' })).toEqual([
      { path: 'definition.op', reason: '"prefix" is not valid: integer field purchases.orders takes eq, in, range, exists' },
    ]);
    expect(issuesOf({ field: 'behavior.lastSeen', op: 'eq', value: '2026-01-01' })[0]).toMatchObject({
      path: 'definition.op',
      reason: expect.stringContaining('date field behavior.lastSeen takes range, exists'),
    });
    expect(issuesOf({ field: 'attributes.gender', op: 'like', value: 'f' })[0]!.reason).toContain('"like" is not an operator');
    expect(issuesOf({ field: 'attributes.gender' })[0]).toMatchObject({
      path: 'definition.op',
      reason: expect.stringContaining('is required'),
    });
  });

  it('rejects an empty in', () => {
    expect(issuesOf({ not: { field: 'attributes.region', op: 'in', values: [] } })).toEqual([
      { path: 'definition.not.values', reason: 'must not be empty: list at least one value' },
    ]);
  });

  it('rejects inverted and empty ranges at their lower bound', () => {
    expect(issuesOf({ field: 'purchases.totalSpend', op: 'range', gte: 500, lte: 100 })).toEqual([
      { path: 'definition.gte', reason: 'range is empty: gte 500 is above lte 100' },
    ]);
    expect(issuesOf({ field: 'purchases.orders', op: 'range', gt: 3, lt: 3 })[0]!.path).toBe('definition.gt');
    expect(issuesOf({ field: 'behavior.lastSeen', op: 'range', gte: '2026-02-01', lt: '2026-01-31T23:00:00Z' })[0]!.path).toBe(
      'definition.gte',
    );
    expect(issuesOf({ field: 'behavior.lastSeen', op: 'range', last: { days: 30 }, olderThan: { days: 60 } })).toEqual([
      { path: 'definition.last', reason: 'range is empty: the last 30 days are all newer than olderThan 60 days' },
    ]);
    expect(valid({ field: 'purchases.orders', op: 'range', gte: 3, lte: 3 })).toBeDefined();
  });

  it('rejects ranges without a bound or with two bounds on one side', () => {
    expect(issuesOf({ field: 'purchases.orders', op: 'range' })).toEqual([
      { path: 'definition', reason: 'needs a bound: gte, gt, lte or lt' },
    ]);
    expect(issuesOf({ field: 'purchases.orders', op: 'range', gte: 1, gt: 2 })).toEqual([
      { path: 'definition.gt', reason: 'conflicts with gte: give one of them' },
    ]);
    expect(issuesOf({ field: 'behavior.lastSeen', op: 'range', gte: '2026-01-01', last: { days: 3 } })[0]!.path).toBe('definition.last');
  });

  it('rejects bad dates: impossible days, date-times without a zone, non-strings, bad relative spans', () => {
    const bad = (gte: unknown) => issuesOf({ field: 'purchases.lastPurchaseAt', op: 'range', gte });
    for (const value of ['2026-02-30', '2026-13-01', '2026-01-01T10:00:00', 'yesterday', '2026-1-1']) {
      expect(bad(value)).toEqual([{ path: 'definition.gte', reason: expect.stringContaining('must be an ISO 8601 date') }]);
    }
    expect(bad(1767225600000)[0]!.reason).toContain('must be an ISO 8601 date');
    expect(issuesOf({ field: 'behavior.lastSeen', op: 'range', last: { days: 0 } })).toEqual([
      { path: 'definition.last.days', reason: 'must be at least 1' },
    ]);
    expect(issuesOf({ field: 'behavior.lastSeen', op: 'range', olderThan: { weeks: 2 } })).toEqual([
      { path: 'definition.olderThan.days', reason: 'is required' },
      { path: 'definition.olderThan.weeks', reason: 'is not a key of { days }; expected days' },
    ]);
    expect(valid({ field: 'behavior.lastSeen', op: 'range', gte: '2024-02-29', lt: '2026-01-01T10:00:00.123456-05:30' })).toBeDefined();
  });

  it('checks values against the field: type, whole numbers for integers, closed vocabularies', () => {
    expect(issuesOf({ field: 'attributes.region', op: 'eq', value: 7 })).toEqual([
      { path: 'definition.value', reason: 'must be a string' },
    ]);
    expect(issuesOf({ field: 'attributes.age', op: 'in', values: [30, 30.5] })).toEqual([
      { path: 'definition.values.1', reason: 'must be a whole number: attributes.age holds integers, so 30.5 can never match' },
    ]);
    expect(issuesOf({ field: 'purchases.orders', op: 'range', gte: 1e10 })[0]!.reason).toContain('32-bit integer');
    expect(issuesOf({ field: 'lifecycle.stage', op: 'eq', value: 'at-risk' })).toEqual([
      {
        path: 'definition.value',
        reason: 'is not a value of lifecycle.stage; use one of registered, new, active, at_risk, dormant, churned',
      },
    ]);
    expect(issuesOf({ field: 'attributes.consents.sms', op: 'eq', value: 'yes' })[0]!.reason).toBe('must be true or false');
    expect(issuesOf({ field: 'attributes.city', op: 'prefix', value: '' })[0]).toEqual({
      path: 'definition.value',
      reason: 'must not be empty',
    });
    expect(issuesOf({ field: 'attributes.city', op: 'eq' })).toEqual([{ path: 'definition.value', reason: 'is required' }]);
    // Fractional bounds on integer fields are fine: Elasticsearch rounds them the way the comparison does.
    expect(valid({ field: 'purchases.orders', op: 'range', gt: 1.5 })).toBeDefined();
  });

  it('reports misspelt keys at the key', () => {
    expect(issuesOf({ field: 'attributes.city', op: 'eq', vlaue: 'Berlin' })).toEqual([
      { path: 'definition.value', reason: 'is required' },
      { path: 'definition.vlaue', reason: 'is not a key of an eq condition; expected field, op, value' },
    ]);
  });

  it('validates event conditions: behaviour type, counts, and only the windows a profile keeps', () => {
    expect(issuesOf({ event: { type: 'purchase', atLeast: 2, inLastDays: 14 } })).toEqual([
      {
        path: 'definition.event.inLastDays',
        reason:
          'must be one of 7, 30, 90: profiles count events in these windows of UTC calendar days (today included); omit inLastDays for the lifetime count',
      },
    ]);
    expect(issuesOf({ event: { type: 'checkout' } })[0]).toMatchObject({
      path: 'definition.event.type',
      reason: expect.stringContaining('page_view'),
    });
    expect(issuesOf({ event: { type: 'search', atLeast: 5, atMost: 2 } })).toEqual([
      { path: 'definition.event.atLeast', reason: 'range is empty: atLeast 5 is above atMost 2' },
    ]);
    expect(issuesOf({ event: { type: 'search', atLeast: -1 } })[0]!.path).toBe('definition.event.atLeast');
  });

  it('validates interest conditions', () => {
    expect(issuesOf({ interest: { kind: 'colour', name: 'red' } })).toEqual([
      { path: 'definition.interest.kind', reason: 'must be one of category, brand' },
    ]);
    expect(issuesOf({ interest: { kind: 'brand', name: '', above: -1 } }).map((i) => i.path)).toEqual([
      'definition.interest.name',
      'definition.interest.above',
    ]);
  });

  it('rejects nodes that are not exactly one condition, and empty groups', () => {
    expect(issuesOf({ and: [region], field: 'x' })[0]!.reason).toContain('mixes and and field');
    expect(issuesOf({ or: [] })).toEqual([{ path: 'definition.or', reason: 'must hold at least one condition' }]);
    expect(issuesOf({ and: [region, 'region = Bavaria'] })[0]).toMatchObject({
      path: 'definition.and.1',
      reason: expect.stringContaining('must be a condition'),
    });
    expect(issuesOf({ where: {} })[0]!.reason).toContain('is not a condition (keys: where)');
    expect(issuesOf(undefined)).toEqual([{ path: 'definition', reason: 'is required' }]);
  });

  it('limits nesting depth and node count', () => {
    let deep: unknown = region;
    for (let i = 0; i < SEGMENT_LIMITS.maxDepth; i++) deep = { not: deep };
    const issues = issuesOf(deep);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe(`definition${'.not'.repeat(SEGMENT_LIMITS.maxDepth)}`);
    expect(issues[0]!.reason).toContain(`at most ${SEGMENT_LIMITS.maxDepth} levels`);

    const wide = { or: Array.from({ length: SEGMENT_LIMITS.maxNodes }, () => region) };
    expect(issuesOf(wide)).toEqual([
      { path: 'definition', reason: `has more than ${SEGMENT_LIMITS.maxNodes} nodes (groups and conditions)` },
    ]);
  });

  it('works as a zod schema inside a request schema, with the same paths', () => {
    const Body = z.strictObject({ name: z.string(), definition: SegmentDefinitionSchema });
    const result = Body.safeParse({ name: 'x', definition: { and: [region, { field: 'purchases.orders', op: 'in', values: [] }] } });
    expect(result.success).toBe(false);
    expect(toIssues(result.error!)).toEqual([{ path: 'definition.and.1.values', reason: 'must not be empty: list at least one value' }]);
    expect(Body.parse({ name: 'x', definition: region }).definition).toEqual(region);
  });
});

describe('compileSegment', () => {
  it('compiles groups, field conditions, events and interests to bool/term/terms/range/exists/prefix/nested', () => {
    const def = valid({
      and: [
        region,
        { field: 'purchases.paymentMethods', op: 'in', values: ['paypal'] },
        {
          or: [
            { field: 'attributes.city', op: 'prefix', value: 'Mün' },
            { field: 'attributes.signupDate', op: 'exists' },
          ],
        },
        { not: { field: 'attributes.consents.email', op: 'eq', value: false } },
        { event: { type: 'purchase', atLeast: 2, inLastDays: 30 } },
        { event: { type: 'review' } },
        { interest: { kind: 'brand', name: 'Acme', above: 0.5 } },
        { interest: { kind: 'category', name: 'Shoes' } },
      ],
    });
    expect(compileSegment(def, NOW)).toEqual({
      bool: {
        filter: [
          { term: { 'attributes.region': 'Bavaria' } },
          { terms: { 'purchases.paymentMethods': ['paypal'] } },
          {
            bool: {
              should: [{ prefix: { 'attributes.city': { value: 'Mün' } } }, { exists: { field: 'attributes.signupDate' } }],
              minimum_should_match: 1,
            },
          },
          { bool: { must_not: [{ term: { 'attributes.consents.email': false } }] } },
          { range: { 'behavior.counts.purchase.d30': { gte: 2 } } },
          { range: { 'behavior.counts.review.lifetime': { gte: 1 } } },
          {
            nested: {
              path: 'interests.brands',
              query: {
                bool: { filter: [{ term: { 'interests.brands.name': 'Acme' } }, { range: { 'interests.brands.score': { gt: 0.5 } } }] },
              },
            },
          },
          { nested: { path: 'interests.categories', query: { bool: { filter: [{ term: { 'interests.categories.name': 'Shoes' } }] } } } },
        ],
      },
    });
  });

  it('resolves relative dates against now and writes every date bound as a full UTC timestamp', () => {
    expect(
      compileSegment(valid({ field: 'purchases.lastPurchaseAt', op: 'range', last: { days: 90 }, olderThan: { days: 30 } }), NOW),
    ).toEqual({
      range: { 'purchases.lastPurchaseAt': { gte: ago(90), lt: ago(30) } },
    });
    expect(
      compileSegment(valid({ field: 'behavior.firstSeen', op: 'range', gt: '2026-02-01T00:00:00+02:00', lte: '2026-03-01' }), NOW),
    ).toEqual({
      range: { 'behavior.firstSeen': { gt: '2026-01-31T22:00:00.000Z', lte: '2026-03-01T00:00:00.000Z' } },
    });
  });

  it('keeps event bounds when both are given', () => {
    expect(compileSegment(valid({ event: { type: 'page_view', atLeast: 1, atMost: 3, inLastDays: 7 } }), NOW)).toEqual({
      range: { 'behavior.counts.page_view.d7': { gte: 1, lte: 3 } },
    });
  });
});

describe('segmentPredicate', () => {
  const matches = (def: unknown, doc: object, now = NOW) => segmentPredicate(valid(def), now)(doc);

  it('matches a keyword array when any element matches, case-sensitively, prefix included', () => {
    const doc = { interests: { topCategories: ['Shoes', 'Bags'] } };
    expect(matches({ field: 'interests.topCategories', op: 'eq', value: 'Bags' }, doc)).toBe(true);
    expect(matches({ field: 'interests.topCategories', op: 'eq', value: 'bags' }, doc)).toBe(false);
    expect(matches({ field: 'interests.topCategories', op: 'in', values: ['Toys', 'Shoes'] }, doc)).toBe(true);
    expect(matches({ field: 'interests.topCategories', op: 'prefix', value: 'Sh' }, doc)).toBe(true);
    expect(matches({ field: 'interests.topCategories', op: 'prefix', value: 'sh' }, doc)).toBe(false);
  });

  it('treats missing, null and empty arrays as absent: no match for eq/range/prefix, a match for their not', () => {
    for (const doc of [{}, { attributes: { region: null } }, { attributes: { region: [] } }, { attributes: null }]) {
      expect(matches({ field: 'attributes.region', op: 'eq', value: 'Bavaria' }, doc)).toBe(false);
      expect(matches({ field: 'attributes.region', op: 'prefix', value: 'B' }, doc)).toBe(false);
      expect(matches({ field: 'attributes.region', op: 'exists' }, doc)).toBe(false);
      expect(matches({ not: { field: 'attributes.region', op: 'eq', value: 'Bavaria' } }, doc)).toBe(true);
    }
    expect(matches({ field: 'purchases.totalSpend', op: 'range', lt: 10 }, {})).toBe(false);
    expect(matches({ not: { field: 'purchases.totalSpend', op: 'range', gte: 10 } }, {})).toBe(true);
    expect(matches({ field: 'attributes.region', op: 'exists' }, { attributes: { region: '' } })).toBe(true);
  });

  it('reads the source the way Elasticsearch flattens it: dotted keys and arrays of objects', () => {
    expect(matches(region, { 'attributes.region': 'Bavaria' })).toBe(true);
    expect(matches(region, { attributes: [{ region: 'Berlin' }, { region: ['Hesse', 'Bavaria'] }] })).toBe(true);
  });

  it('compares dates as epoch ms, with inclusive and exclusive bounds at the exact instant', () => {
    const doc = { purchases: { lastPurchaseAt: ago(30) } };
    expect(matches({ field: 'purchases.lastPurchaseAt', op: 'range', last: { days: 30 } }, doc)).toBe(true);
    expect(matches({ field: 'purchases.lastPurchaseAt', op: 'range', olderThan: { days: 30 } }, doc)).toBe(false);
    expect(matches({ field: 'purchases.lastPurchaseAt', op: 'range', gt: ago(30) }, doc)).toBe(false);
    const offset = { attributes: { signupDate: '2026-01-01T01:30:00.999999+01:30' } };
    expect(matches({ field: 'attributes.signupDate', op: 'range', lte: '2026-01-01T00:00:00.999Z' }, offset)).toBe(true);
    expect(matches({ field: 'attributes.signupDate', op: 'range', lt: '2026-01-01T00:00:00.999Z' }, offset)).toBe(false);
    expect(matches({ field: 'attributes.signupDate', op: 'range', gte: '2026-01-01' }, { attributes: { signupDate: 1767225600000 } })).toBe(
      true,
    );
  });

  it('compares numbers as indexed: integers truncated, doubles exactly', () => {
    expect(matches({ field: 'purchases.orders', op: 'eq', value: 2 }, { purchases: { orders: 2.9 } })).toBe(true);
    expect(matches({ field: 'purchases.orders', op: 'range', gt: 1.5 }, { purchases: { orders: 2 } })).toBe(true);
    expect(matches({ field: 'purchases.orders', op: 'range', lte: -1.5 }, { purchases: { orders: -1 } })).toBe(false);
    expect(matches({ field: 'purchases.avgOrderValue', op: 'range', gt: 0.1 }, { purchases: { avgOrderValue: 0.1 } })).toBe(false);
    expect(matches({ field: 'purchases.avgOrderValue', op: 'eq', value: 0 }, { purchases: { avgOrderValue: -0 } })).toBe(true);
  });

  it('reads booleans like Elasticsearch, "false" and "" included', () => {
    const email = { field: 'attributes.consents.email', op: 'eq', value: false };
    expect(matches(email, { attributes: { consents: { email: 'false' } } })).toBe(true);
    expect(matches(email, { attributes: { consents: { email: '' } } })).toBe(true);
    expect(matches(email, { attributes: { consents: { email: true } } })).toBe(false);
  });

  it('requires name and score of an interest to hold in the same nested entry', () => {
    const doc = {
      interests: {
        categories: [
          { name: 'Shoes', score: 0.2 },
          { name: 'Bags', score: 3 },
        ],
      },
    };
    expect(matches({ interest: { kind: 'category', name: 'Shoes', above: 0.5 } }, doc)).toBe(false);
    expect(matches({ interest: { kind: 'category', name: 'Shoes', above: 0.1 } }, doc)).toBe(true);
    expect(matches({ interest: { kind: 'category', name: 'Shoes' } }, doc)).toBe(true);
    expect(matches({ interest: { kind: 'brand', name: 'Shoes' } }, doc)).toBe(false);
  });

  it('answers event conditions from a folded profile’s UTC-day windows', () => {
    const purchase = (daysAgo: number) =>
      queued({
        type: 'purchase',
        timestamp: ago(daysAgo),
        order: {
          orderId: `o${daysAgo}`,
          currency: 'EUR',
          amount: 30,
          paymentMethod: 'card',
          lines: [{ itemId: 'i', quantity: 1, unitPrice: 30 }],
        },
      });
    const state = foldEvents(undefined, [purchase(1), purchase(20), purchase(60)], NOW, OPTS).state;
    const doc = deriveProfile('u1', state, NOW, NOW, OPTS);
    expect(matches({ event: { type: 'purchase', atLeast: 2, inLastDays: 30 } }, doc)).toBe(true);
    expect(matches({ event: { type: 'purchase', atLeast: 2, inLastDays: 7 } }, doc)).toBe(false);
    expect(matches({ event: { type: 'purchase', atLeast: 3 } }, doc)).toBe(true);
    expect(matches({ event: { type: 'review' } }, doc)).toBe(false);
    expect(matches({ event: { type: 'review', atMost: 0 } }, doc)).toBe(true);
    expect(
      matches(
        { and: [{ field: 'purchases.paymentMethods', op: 'eq', value: 'card' }, { not: { field: 'attributes.gender', op: 'exists' } }] },
        doc,
      ),
    ).toBe(true);
  });
});
