export { startQuery, type QueryService } from './service';
export { loadQueryConfig, QueryEnv, type QueryConfig } from './config';
export { Profiles } from './profiles';
