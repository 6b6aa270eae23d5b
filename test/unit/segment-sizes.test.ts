import fc from 'fast-check';
import { segmentSizeId, segmentSizes, snapshotSlot, SegmentSizeSchema } from '@portrait/shared';

const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', '\uD800', '@', 'x'.repeat(10_000)),
);

describe('snapshotSlot', () => {
  it('is the start of the interval the clock is in: a rerun in the interval lands on the same slot', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8_000_000_000_000 }), fc.integer({ min: 60_000, max: 86_400_000 }), (now, every) => {
        const slot = snapshotSlot(now, every);
        expect(slot % every).toBe(0);
        expect(slot).toBeLessThanOrEqual(now);
        expect(now - slot).toBeLessThan(every);
        expect(snapshotSlot(slot + every - 1, every)).toBe(slot);
      }),
    );
  });

  it('refuses a clock or an interval that is not one', () => {
    expect(() => snapshotSlot(Number.NaN, 60_000)).toThrow(RangeError);
    expect(() => snapshotSlot(0, 0)).toThrow(RangeError);
  });
});

describe('segmentSizes', () => {
  it('writes one valid document per segment, 0 for a segment without members, and a share within [0, 1]', () => {
    const segment = fc.record({ segmentId: hostile, name: hostile, version: fc.integer({ min: 1, max: 1000 }) });
    fc.assert(
      fc.property(
        fc.uniqueArray(segment, { selector: (s) => s.segmentId, maxLength: 8 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 8_000_000_000_000 }),
        (segments, profiles, at) => {
          const members = new Map(segments.slice(1).map((s, i) => [s.segmentId, Math.min(profiles, i * 7)]));
          const docs = segmentSizes(segments, members, profiles, at);
          expect(docs.map((d) => d.segmentId)).toEqual(segments.map((s) => s.segmentId));
          for (const [i, doc] of docs.entries()) {
            expect(SegmentSizeSchema.parse(doc)).toEqual(doc);
            expect(doc.size).toBe(i === 0 ? 0 : members.get(doc.segmentId));
            expect(doc.share).toBe(profiles > 0 ? doc.size / profiles : 0);
            expect(doc.takenAt).toBe(new Date(at).toISOString());
          }
          const ids = segments.map((s) => segmentSizeId(s.segmentId, at));
          expect(new Set(ids).size).toBe(ids.length);
        },
      ),
    );
  });
});
