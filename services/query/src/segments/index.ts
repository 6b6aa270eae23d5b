export { segmentRoutes } from './routes';
export { SegmentStore, type Segment } from './store';
export { SegmentAnalytics, type Definition, type PreviewAnswer } from './analytics';
export { MembershipJobs, type MembershipStatus } from './membership';
