export { segmentRoutes } from './routes';
export { SegmentStore, type Segment } from './store';
export { SegmentAnalytics, type Definition } from './analytics';
export { MembershipJobs, type MembershipStatus } from './membership';
