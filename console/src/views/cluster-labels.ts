import type { ClustersAnswer } from '../api-types';
import { useApi } from '../context';
import { useLoad } from '../hooks';

/** Labels of cluster numbers ("converting premium shoppers" for 2), from the active cluster model; none without one. */
export function useClusterLabels(): Map<string, string> {
  const api = useApi();
  const clusters = useLoad((signal) => api.get<ClustersAnswer>('/v1/insights/clusters', undefined, signal).catch(() => undefined), []);
  return new Map((clusters.data?.clusters ?? []).map((c) => [String(c.clusterId), c.label]));
}
