export * from './route';
export * from './error-body';
export { componentRef } from './components';
export * from './document';
export * from './health';
export * from './ingest';
export * from './profiles';
export * from './segments';
export * from './exports';
