export * from './types';
export * from './options';
export * from './time';
export * from './decay';
export {
  foldEvents,
  emptyState,
  compareEvents,
  reviewFingerprint,
  REVIEW_TEXTS_KEPT,
  ITEMS_KEPT,
  SHOWN_KEPT,
  type FoldResult,
} from './fold';
export { deriveProfile, lifecycleStage, ageBandOf, RECENT_ITEMS } from './derive';
export { consentOf, recordConsent, type ConsentView } from './consent';
