/**
 * Compile-time: the response schemas of the API document describe exactly the types the services answer
 * with, where those types are not inferred from the schemas themselves (stored segments and export records
 * are: `Segment`, `ExportRecord`). `tsc` (in `npm test`) fails here when a field is added to, removed from or retyped in one side only.
 */
import type { z } from 'zod';
import type { MembershipStatusSchema, PublicProfileSchema, SegmentPreviewAnswer } from '@portrait/shared';
import type { PublicProfile } from '../../services/query/src/profiles';
import type { MembershipStatus, PreviewAnswer } from '../../services/query/src/segments';

/** Every key path of `T`, through objects, arrays and optional members: `a`, `a.b`, `a.list.c`. */
type Paths<T> = T extends readonly (infer E)[]
  ? Paths<E>
  : T extends object
    ? { [K in keyof T & string]-?: K | `${K}.${Paths<NonNullable<T[K]>>}` }[keyof T & string]
    : never;

type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Each assignable to the other, with the same key paths (so an optional field missing on one side counts). */
type Same<A, B> = Mutual<A, B> extends true ? Mutual<Paths<A>, Paths<B>> : false;

export const profile: Same<PublicProfile, z.output<typeof PublicProfileSchema>> = true;
export const membership: Same<MembershipStatus, z.output<typeof MembershipStatusSchema>> = true;
export const preview: Same<PreviewAnswer, z.output<typeof SegmentPreviewAnswer>> = true;
