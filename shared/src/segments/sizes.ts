import { z } from 'zod';

/**
 * One segment's size at one snapshot, as `<prefix>-segment-sizes` holds it: the segment-snapshot job writes one
 * per active segment per interval, so sizes over time are a date histogram away (Kibana, the console).
 */
export const SegmentSizeSchema = z.object({
  segmentId: z.string(),
  name: z.string(),
  /** The definition's version when the snapshot was taken. */
  version: z.number().int().positive(),
  /** Profiles whose materialized membership holds the segment. */
  size: z.number().int().nonnegative(),
  /** Every profile at that moment: `share` is size / profiles. */
  profiles: z.number().int().nonnegative(),
  share: z.number().min(0).max(1),
  /** The snapshot's slot (ISO 8601): the start of its interval. */
  takenAt: z.string(),
});
export type SegmentSize = z.infer<typeof SegmentSizeSchema>;

/** The start of the interval `nowMs` falls in: reruns within one interval write the same documents. */
export function snapshotSlot(nowMs: number, everyMs: number): number {
  if (!Number.isFinite(nowMs) || !(everyMs > 0)) throw new RangeError(`snapshotSlot: bad clock ${nowMs} or interval ${everyMs}`);
  return Math.floor(nowMs / everyMs) * everyMs;
}

/** The document id of a segment's snapshot in a slot: one per segment and slot. */
export function segmentSizeId(segmentId: string, takenAtMs: number): string {
  return `${segmentId}@${new Date(takenAtMs).toISOString()}`;
}

/**
 * The snapshot documents for the active segments, given each one's member count (absent: 0 members) and the
 * profile total; in the segments' order.
 */
export function segmentSizes(
  segments: readonly { segmentId: string; name: string; version: number }[],
  members: ReadonlyMap<string, number>,
  profiles: number,
  takenAtMs: number,
): SegmentSize[] {
  const takenAt = new Date(takenAtMs).toISOString();
  return segments.map(({ segmentId, name, version }) => {
    const size = members.get(segmentId) ?? 0;
    return { segmentId, name, version, size, profiles, share: profiles > 0 ? Math.min(1, size / profiles) : 0, takenAt };
  });
}
