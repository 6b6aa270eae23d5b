import fc from 'fast-check';
import { buildMembershipCatalog, evaluateMembership, OUTBOX_LIMITS, recentChanges, type SegmentRecord } from '@portrait/shared';

const NOW = Date.parse('2026-11-23T12:00:00Z');

const segment = (segmentId: string, minOrders: number, status: SegmentRecord['status'] = 'active'): SegmentRecord => ({
  segmentId,
  version: 1,
  status,
  definition: { field: 'purchases.orders', op: 'range', gte: minOrders },
});

const profileWith = (orders: number) => ({ userId: 'u', purchases: { orders } });

describe('buildMembershipCatalog', () => {
  it('compiles active segments, lists deleted ones, and reports definitions that no longer validate', () => {
    const { catalog, invalid } = buildMembershipCatalog(
      [
        segment('a', 1),
        segment('gone', 1, 'deleted'),
        { segmentId: 'bad', version: 3, status: 'active', definition: { field: 'nope', op: 'eq', value: 1 } },
      ],
      NOW,
    );
    expect(catalog.active.map((s) => s.segmentId)).toEqual(['a']);
    expect([...catalog.deleted]).toEqual(['gone']);
    expect(invalid).toEqual([{ segmentId: 'bad', reason: expect.stringContaining('unknown field "nope"') }]);
  });
});

describe('evaluateMembership', () => {
  const { catalog } = buildMembershipCatalog([segment('one', 1), segment('three', 3), segment('gone', 1, 'deleted')], NOW);

  it('enters and exits with one change each, keeps segments it does not know, drops deleted ones silently', () => {
    const result = evaluateMembership(profileWith(2), 'u', { segments: ['three', 'unknown', 'gone'] }, catalog);
    expect(result.fields.segments).toEqual(['one', 'unknown']);
    expect(result.changes.map((c) => `${c.segmentId}:${c.change}`)).toEqual(['one:entered', 'three:exited']);
    expect(result.changes[0]).toEqual({
      changeId: `one/entered/${NOW}/u`,
      userId: 'u',
      segmentId: 'one',
      segmentVersion: 1,
      change: 'entered',
      at: new Date(NOW).toISOString(),
    });
    expect(result.fields.segmentOutbox).toEqual(result.changes);
  });

  it('re-evaluates only the given segments when asked to', () => {
    const result = evaluateMembership(profileWith(5), 'u', { segments: [] }, catalog, new Set(['three']));
    expect(result.fields.segments).toEqual(['three']);
    expect(result.changes.map((c) => c.segmentId)).toEqual(['three']);
  });

  it('prunes the outbox by age and size, and offers recent entries for re-publication', () => {
    const old = {
      changeId: 'x',
      userId: 'u',
      segmentId: 's',
      segmentVersion: 1,
      change: 'entered' as const,
      at: new Date(NOW - OUTBOX_LIMITS.retentionMs - 1).toISOString(),
    };
    const fresh = { ...old, changeId: 'y', at: new Date(NOW - 1000).toISOString() };
    const result = evaluateMembership(profileWith(0), 'u', { segments: [], segmentOutbox: [old, fresh] }, catalog);
    expect(result.fields.segmentOutbox.map((c) => c.changeId)).toEqual(['y']);
    expect(recentChanges({ segmentOutbox: [old, fresh] }, NOW, 60_000).map((c) => c.changeId)).toEqual(['y']);
    const many = Array.from({ length: OUTBOX_LIMITS.maxEntries + 10 }, (_, i) => ({ ...fresh, changeId: `c${i}` }));
    expect(evaluateMembership(profileWith(0), 'u', { segmentOutbox: many }, catalog).fields.segmentOutbox).toHaveLength(
      OUTBOX_LIMITS.maxEntries,
    );
  });

  it('is idempotent and agrees with each predicate, for any orders and any previous membership', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 }), fc.subarray(['one', 'three', 'gone', 'other']), (orders, previous) => {
        const first = evaluateMembership(profileWith(orders), 'u', { segments: previous }, catalog);
        const second = evaluateMembership(profileWith(orders), 'u', first.fields, catalog);
        expect(second.changes).toEqual([]);
        expect(second.fields.segments).toEqual(first.fields.segments);
        expect(first.fields.segments.includes('one')).toBe(orders >= 1);
        expect(first.fields.segments.includes('three')).toBe(orders >= 3);
        expect(first.fields.segments.includes('gone')).toBe(false);
        expect(first.fields.segments.includes('other')).toBe(previous.includes('other'));
        // Every change flips exactly the membership it names.
        for (const c of first.changes) {
          expect(previous.includes(c.segmentId)).toBe(c.change === 'exited');
          expect(first.fields.segments.includes(c.segmentId)).toBe(c.change === 'entered');
        }
      }),
    );
  });
});
