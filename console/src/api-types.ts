/**
 * The answers the console reads, as the query service's own schemas describe them (types only: nothing of the
 * shared package is bundled). A change to an answer the console relies on fails `npm run typecheck` here.
 */
import type { z } from 'zod';
import type {
  ClustersInsight,
  ErrorBodyShape,
  ExportListed,
  ExportStarted,
  ExportStatusAnswer,
  MembershipStatusSchema,
  ProfileSearchAnswer,
  RfmInsight,
  RulesInsight,
  SegmentList,
  SegmentPreviewAnswer,
  SegmentSaved,
  UserSegments,
} from '@portrait/shared';

export type {
  Breakdown,
  BehaviourType,
  ConsentChannel,
  ExportField,
  ExportRequestInput,
  Facet,
  PublicProfileShape as Profile,
  RecommendationCtr,
  Recommendations,
  RecommendedItem,
  Segment,
  SegmentField,
  Strategy,
} from '@portrait/shared';

export type ErrorBody = ErrorBodyShape;
export type SearchAnswer = z.output<typeof ProfileSearchAnswer>;
export type SegmentListAnswer = z.output<typeof SegmentList>;
export type SavedSegment = z.output<typeof SegmentSaved>;
export type PreviewAnswer = z.output<typeof SegmentPreviewAnswer>;
export type MembershipStatus = z.output<typeof MembershipStatusSchema>;
export type UserSegmentsAnswer = z.output<typeof UserSegments>;
export type ExportStartedAnswer = z.output<typeof ExportStarted>;
export type ExportStatus = z.output<typeof ExportStatusAnswer>;
export type ExportListedAnswer = z.output<typeof ExportListed>;
export type RfmAnswer = z.output<typeof RfmInsight>;
export type ClustersAnswer = z.output<typeof ClustersInsight>;
export type RulesAnswer = z.output<typeof RulesInsight>;
