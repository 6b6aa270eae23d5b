export * from './kinds';
export * from './document';
export * from './inputs';
export * from './scores';
export * from './scoring';
export * from './jobs';
export * from './cluster-features';
export * from './collaborative';
