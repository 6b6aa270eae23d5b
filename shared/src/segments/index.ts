export { SEGMENT_FIELDS, OPERATORS, fieldSpec, closeFields, type FieldKind, type FieldSpec, type Operator } from './fields';
export * from './types';
export { SEGMENT_LIMITS, SegmentDefinitionSchema, definitionOrThrow, parseSegmentDefinition } from './schema';
export { compileSegment, type EsQuery } from './compile';
export { segmentPredicate } from './predicate';
export { parseIsoDate } from './bounds';
export {
  OUTBOX_LIMITS,
  buildMembershipCatalog,
  membershipCatalog,
  prepareSegments,
  changeId,
  evaluateMembership,
  recentChanges,
  type MembershipCatalog,
  type MembershipFields,
  type PreparedSegments,
  type SegmentChange,
  type StoredProfile,
} from './membership';
export * from './document';
export { SegmentSizeSchema, segmentSizeId, segmentSizes, snapshotSlot, type SegmentSize } from './sizes';
