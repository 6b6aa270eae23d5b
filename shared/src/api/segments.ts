import { z } from 'zod';
import { IdSchema } from '../events';
import { WINDOWS_DAYS } from '../profile/options';
import { BREAKDOWNS, COUNT_WINDOWS, type Breakdown } from '../profile-fields';
import { SegmentSchema, SegmentVersionSchema } from '../segments/document';
import { SEGMENT_FIELDS } from '../segments/fields';
import { PROFILE_EXAMPLE, PublicProfileSchema, BucketsSchema } from './profiles';
import { json, type ApiRoute } from './route';

/** The segment routes' HTTP contract (query service). */

const fieldNames = Object.keys(SEGMENT_FIELDS).filter((f) => !f.startsWith('behavior.counts.'));

/** Validated by `parseSegmentDefinition`, which points each issue at its node; here it is only described. */
export const SegmentDefinitionBody = z.unknown().meta({
  description:
    'A tree of conditions: `{and: [...]}`, `{or: [...]}`, `{not: {...}}`; field conditions `{field, op, ...}` with `eq` ' +
    '(`value`), `in` (`values`), `prefix` (`value`), `exists`, `range` (`gte`/`gt`/`lte`/`lt`; dates also `last: {days}` ' +
    `and \`olderThan: {days}\`); \`{event: {type, atLeast, atMost, inLastDays}}\` with inLastDays one of ${WINDOWS_DAYS.join(', ')} ` +
    '(omitted: ever); `{interest: {kind: category|brand, name, above}}`. Fields: ' +
    `${fieldNames.join(', ')}, and behavior.counts.<event type>.<${COUNT_WINDOWS.join('|')}>.`,
});

export const SegmentBody = z
  .strictObject({
    segmentId: IdSchema.optional().meta({ description: 'Chosen by the client; a UUID when omitted' }),
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).optional(),
    definition: SegmentDefinitionBody,
  })
  .meta({ id: 'SegmentInput' });
export const SegmentUpdateBody = SegmentBody.omit({ segmentId: true }).meta({ id: 'SegmentUpdate' });
const breakdownNames = Object.keys(BREAKDOWNS) as [Breakdown, ...Breakdown[]];

/** Limits of a preview's extras: it is asked for on every pause in typing, so it stays one bounded search. */
export const PREVIEW_LIMITS = { overlapWith: 10 } as const;

export const SegmentPreviewBody = z
  .strictObject({
    definition: SegmentDefinitionBody,
    sampleSize: z.number().int().min(0).max(100).default(10),
    by: z
      .array(z.enum(breakdownNames))
      .max(breakdownNames.length)
      .optional()
      .meta({
        description: `Breakdowns of the members to count, as \`GET /v1/segments/:id/breakdown\` gives: ${breakdownNames.join(', ')}`,
      }),
    breakdownSize: z.number().int().min(1).max(100).default(10).meta({ description: 'Values per breakdown, most frequent first' }),
    overlapWith: z
      .array(IdSchema)
      .max(PREVIEW_LIMITS.overlapWith)
      .optional()
      .meta({ description: 'Saved segments to compare the definition with (`404` for one that does not exist)' }),
  })
  .meta({ id: 'SegmentPreview' });
export const SegmentSampleQuery = z.strictObject({ size: z.coerce.number().int().min(1).max(100).default(10) });
export const SegmentVersionParam = z.coerce.number().int().min(1);

/** `?by=region,gender&size=10` over the breakdowns the query service offers (`names`). */
export function segmentBreakdownQuery<B extends string>(names: readonly [B, ...B[]]) {
  return z.strictObject({
    by: z
      .string()
      .default(names.join(','))
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.enum(names)).min(1))
      .meta({ description: `Comma-separated, any of ${names.join(', ')}; all when omitted` }),
    size: z.coerce.number().int().min(1).max(100).default(10),
  });
}

export const SegmentSaved = SegmentSchema.safeExtend({
  membership: z.object({ backfillJobId: z.string().meta({ description: 'The job that brings materialized membership up to date' }) }),
}).meta({ id: 'SegmentSaved' });

export const SegmentList = z.object({ segments: z.array(SegmentSchema) });
const at = () => z.iso.datetime();
const Head = { segmentId: IdSchema, version: z.number().int() };
export const SegmentCount = z.object({ ...Head, count: z.number().int() });
export const SegmentSampleAnswer = z.object({ count: z.number().int(), sample: z.array(PublicProfileSchema) });
export const SegmentPreviewOverlap = z.object({
  segmentId: IdSchema,
  version: z.number().int().meta({ description: 'The version of the saved segment compared with' }),
  both: z.number().int().meta({ description: 'Profiles the definition and the segment both hold' }),
  onlyPreview: z.number().int().meta({ description: 'Profiles only the definition holds' }),
  onlySegment: z.number().int().meta({ description: 'Profiles only the saved segment holds' }),
});
export const SegmentPreviewAnswer = SegmentSampleAnswer.extend({
  breakdowns: BucketsSchema.optional().meta({ description: 'With `by`: counts per value (`(none)` for members without one)' }),
  overlaps: z.array(SegmentPreviewOverlap).optional().meta({ description: 'With `overlapWith`: one per segment, in that order' }),
}).meta({ id: 'SegmentPreviewAnswer' });
export const SegmentMembersAnswer = z.object({ ...Head, ...SegmentSampleAnswer.shape });
export const SegmentBreakdownAnswer = z.object({ ...Head, count: z.number().int(), breakdowns: BucketsSchema });
export const SegmentOverlap = z.object({
  a: IdSchema,
  b: IdSchema,
  both: z.number().int(),
  onlyA: z.number().int(),
  onlyB: z.number().int(),
});
export const MembershipStatusSchema = z
  .object({
    ...Head,
    materialized: z.number().int().meta({ description: 'Profiles tagged with the segment' }),
    backfill: z
      .object({
        jobId: z.string(),
        state: z.string(),
        progress: z.unknown(),
        finishedAt: at().optional(),
        failedReason: z.string().optional(),
      })
      .nullable(),
  })
  .meta({ id: 'MembershipStatus' });
export const UserSegments = z.object({
  userId: IdSchema,
  segments: z.array(z.object({ segmentId: IdSchema, name: z.string(), version: z.number().int() })).meta({
    description: 'Active segments whose current definition the profile satisfies now',
  }),
  materialized: z.array(z.string()).meta({ description: 'Memberships materialized on the profile' }),
});

const definition = {
  and: [
    { event: { type: 'purchase', atLeast: 2, inLastDays: 90 } },
    { field: 'purchases.lastPurchaseAt', op: 'range', olderThan: { days: 30 } },
    { not: { field: 'attributes.region', op: 'in', values: ['Berlin', 'Hamburg'] } },
  ],
};
const segment = {
  segmentId: 'lapsing-buyers',
  name: 'Lapsing buyers',
  status: 'active',
  version: 1,
  definition,
  versions: [{ version: 1, name: 'Lapsing buyers', definition, createdAt: '2026-11-23T10:00:00.000Z' }],
  createdAt: '2026-11-23T10:00:00.000Z',
  updatedAt: '2026-11-23T10:00:00.000Z',
};
const saved = { ...segment, membership: { backfillJobId: 'backfill-lapsing-buyers-v1' } };
const SegmentParams = z.object({ id: IdSchema.meta({ description: 'The segment id' }) });
const one = (name: string, value: unknown) => ({ [name]: { summary: name, value } });

/** `breakdownQuery` is the schema the route validates `?by&size` with (`segmentBreakdownQuery`). */
export function segmentApiRoutes(breakdownQuery: z.ZodObject): ApiRoute[] {
  return [
    {
      method: 'post',
      path: '/v1/segments/preview',
      tag: 'segments',
      scope: 'segments',
      summary: 'Count and sample a definition without saving it, and break it down or compare it with saved segments',
      description:
        'What a segment editor asks while the definition is typed: one search over the profiles at this moment, so the ' +
        'count, the breakdowns and the overlaps agree with each other.',
      request: {
        body: {
          content: json(SegmentPreviewBody, {
            ...one('preview', { definition, sampleSize: 1 }),
            ...one('breakdown', { definition, sampleSize: 0, by: ['region'], overlapWith: ['spread-lovers'] }),
          }),
        },
      },
      responses: {
        200: {
          description: 'Count and sample; breakdowns and overlaps when asked for',
          content: json(SegmentPreviewAnswer, {
            ...one('sample', { count: 1, sample: [PROFILE_EXAMPLE] }),
            ...one('breakdown', {
              count: 1204,
              sample: [],
              breakdowns: {
                region: [
                  { value: 'Bavaria', count: 700 },
                  { value: '(none)', count: 504 },
                ],
              },
              overlaps: [{ segmentId: 'spread-lovers', version: 2, both: 120, onlyPreview: 1084, onlySegment: 310 }],
            }),
          }),
        },
      },
      errors: [400, 404, 413, 415, 503],
    },
    {
      method: 'post',
      path: '/v1/segments',
      tag: 'segments',
      scope: 'segments',
      summary: 'Create a segment',
      description: 'Its membership is materialized on profiles by a backfill job, then kept up to date as profiles change.',
      request: { body: { content: json(SegmentBody, one('create', { segmentId: 'lapsing-buyers', name: 'Lapsing buyers', definition })) } },
      responses: { 201: { description: 'Created, version 1', content: json(SegmentSaved, one('created', saved)) } },
      errors: [400, 409, 413, 415, 503],
    },
    {
      method: 'get',
      path: '/v1/segments',
      tag: 'segments',
      scope: 'segments',
      summary: 'The active segments',
      responses: { 200: { description: 'By name', content: json(SegmentList, one('list', { segments: [segment] })) } },
      errors: [503],
    },
    {
      method: 'get',
      path: '/v1/segments/:id',
      tag: 'segments',
      scope: 'segments',
      summary: 'A segment with every version',
      request: { params: SegmentParams },
      responses: { 200: { description: 'The segment', content: json(SegmentSchema, one('segment', segment)) } },
      errors: [400, 404, 503],
    },
    {
      method: 'get',
      path: '/v1/segments/:id/versions/:version',
      tag: 'segments',
      scope: 'segments',
      summary: 'One version of a segment (deleted segments included)',
      request: { params: SegmentParams.extend({ version: SegmentVersionParam }) },
      responses: { 200: { description: 'The version', content: json(SegmentVersionSchema, one('version', segment.versions[0])) } },
      errors: [400, 404, 503],
    },
    {
      method: 'put',
      path: '/v1/segments/:id',
      tag: 'segments',
      scope: 'segments',
      summary: 'Change a segment',
      description: 'Name and description change in place; a changed definition becomes a new version.',
      request: {
        params: SegmentParams,
        body: { content: json(SegmentUpdateBody, one('rename', { name: 'Lapsing buyers (DE)', definition })) },
      },
      responses: { 200: { description: 'Saved', content: json(SegmentSaved, one('saved', { ...saved, name: 'Lapsing buyers (DE)' })) } },
      errors: [400, 404, 409, 413, 415, 503],
    },
    {
      method: 'delete',
      path: '/v1/segments/:id',
      tag: 'segments',
      scope: 'segments',
      summary: 'Delete a segment',
      description: 'Its memberships are removed from profiles; its versions stay readable.',
      request: { params: SegmentParams },
      responses: { 204: { description: 'Deleted' } },
      errors: [400, 404, 409, 503],
    },
    {
      method: 'get',
      path: '/v1/segments/:id/count',
      tag: 'segments',
      scope: 'segments',
      summary: 'Live member count',
      request: { params: SegmentParams },
      responses: {
        200: {
          description: 'The count now',
          content: json(SegmentCount, one('count', { segmentId: 'lapsing-buyers', version: 1, count: 1204 })),
        },
      },
      errors: [400, 404, 503],
    },
    {
      method: 'get',
      path: '/v1/segments/:id/membership',
      tag: 'segments',
      scope: 'segments',
      summary: 'Materialized membership and the backfill job',
      request: { params: SegmentParams },
      responses: {
        200: {
          description: 'Tagged profiles and the job state',
          content: json(
            MembershipStatusSchema,
            one('done', {
              segmentId: 'lapsing-buyers',
              version: 1,
              materialized: 1204,
              backfill: {
                jobId: 'backfill-lapsing-buyers-v1',
                state: 'completed',
                progress: { scanned: 5000 },
                finishedAt: '2026-11-23T10:00:04.000Z',
              },
            }),
          ),
        },
      },
      errors: [400, 404, 503],
    },
    {
      method: 'get',
      path: '/v1/segments/:id/sample',
      tag: 'segments',
      scope: 'segments',
      summary: 'Live members, most recently seen first',
      request: { params: SegmentParams, query: SegmentSampleQuery },
      responses: {
        200: {
          description: 'Count and members',
          content: json(
            SegmentMembersAnswer,
            one('sample', { segmentId: 'lapsing-buyers', version: 1, count: 1, sample: [PROFILE_EXAMPLE] }),
          ),
        },
      },
      errors: [400, 404, 503],
    },
    {
      method: 'get',
      path: '/v1/segments/:id/breakdown',
      tag: 'segments',
      scope: 'segments',
      summary: 'Live member counts per value of profile fields',
      request: { params: SegmentParams, query: breakdownQuery },
      responses: {
        200: {
          description: 'Counts per value (`(none)` for members without one)',
          content: json(
            SegmentBreakdownAnswer,
            one('byRegion', {
              segmentId: 'lapsing-buyers',
              version: 1,
              count: 1204,
              breakdowns: {
                region: [
                  { value: 'Bavaria', count: 700 },
                  { value: '(none)', count: 504 },
                ],
              },
            }),
          ),
        },
      },
      errors: [400, 404, 503],
    },
    {
      method: 'get',
      path: '/v1/segments/:id/overlap/:other',
      tag: 'segments',
      scope: 'segments',
      summary: 'Live overlap of two segments',
      request: { params: SegmentParams.extend({ other: IdSchema.meta({ description: 'The other segment id' }) }) },
      responses: {
        200: {
          description: 'Members of both, of only one',
          content: json(SegmentOverlap, one('overlap', { a: 'lapsing-buyers', b: 'spread-lovers', both: 120, onlyA: 1084, onlyB: 310 })),
        },
      },
      errors: [400, 404, 503],
    },
    {
      method: 'get',
      path: '/v1/users/:id/segments',
      tag: 'segments',
      scope: 'read',
      summary: 'The segments of one user',
      request: { params: z.object({ id: IdSchema.meta({ description: 'The user id' }) }) },
      responses: {
        200: {
          description: 'Satisfied now, and materialized',
          content: json(
            UserSegments,
            one('alice', {
              userId: 'alice',
              segments: [{ segmentId: 'spread-lovers', name: 'Spread lovers', version: 2 }],
              materialized: ['spread-lovers'],
            }),
          ),
        },
      },
      errors: [400, 404, 503],
    },
  ];
}
