export { segmentRoutes } from './routes';
export { SegmentStore, type Segment } from './store';
export { SegmentAnalytics, BREAKDOWNS, type Definition } from './analytics';
export { MembershipJobs, type MembershipStatus } from './membership';
