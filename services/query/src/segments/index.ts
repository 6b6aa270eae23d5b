export { segmentRoutes } from './routes';
export { SegmentStore, type Segment } from './store';
export { SegmentAnalytics, definitionOrThrow, type Definition } from './analytics';
export { MembershipJobs, type MembershipStatus } from './membership';
