import { z } from 'zod';
import { IdSchema } from '../events';

/**
 * A saved segment as stored in `<prefix>-segments` (one document per segment, holding every version) and
 * as the API returns it. The store writes it, the query service and the jobs process read it.
 */

const at = () => z.iso.datetime();

export const SegmentVersionSchema = z
  .object({ version: z.number().int(), name: z.string(), definition: z.unknown(), createdAt: at() })
  .meta({ id: 'SegmentVersion' });
export type SegmentVersion = z.infer<typeof SegmentVersionSchema>;

export const SEGMENT_STATUSES = ['active', 'deleted'] as const;

export const SegmentSchema = z
  .object({
    segmentId: IdSchema,
    name: z.string(),
    description: z.string().optional(),
    status: z.enum(SEGMENT_STATUSES),
    version: z.number().int(),
    definition: z.unknown(),
    versions: z.array(SegmentVersionSchema),
    createdAt: at(),
    updatedAt: at(),
  })
  .meta({ id: 'Segment' });
export type Segment = z.infer<typeof SegmentSchema>;

/** What the indexer and the jobs process read of a segment to keep its membership on profiles. */
export const SegmentRecordSchema = SegmentSchema.pick({ segmentId: true, version: true, status: true, definition: true });
export type SegmentRecord = z.infer<typeof SegmentRecordSchema>;
/** The `_source` fields a `SegmentRecord` is read from. */
export const SEGMENT_RECORD_FIELDS = Object.keys(SegmentRecordSchema.shape) as (keyof SegmentRecord)[];
