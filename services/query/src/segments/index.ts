export { segmentRoutes } from './routes';
export { SegmentStore, type Segment } from './store';
export { SegmentAnalytics, BREAKDOWNS } from './analytics';
export { MembershipJobs, type MembershipStatus } from './membership';
