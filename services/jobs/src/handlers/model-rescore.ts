import type { Handler } from '../handler';
import { refreshProfiles, type RefreshReport } from './refresh';

export interface RescoreReport {
  kind: string;
  version: number;
  passes: number;
  rescored: number;
  /** Set when a later promotion took over: its own re-score finishes the work. */
  superseded?: number;
  /** Profiles still carrying another version when the passes ran out (written meanwhile; the next write fixes them). */
  remaining: number;
}

/**
 * Brings every profile to a kind's active version after a promotion: walks the profiles whose recorded
 * version differs (or that carry none), derives, scores and evaluates membership again and writes each back
 * conditionally, pass after pass until a pass finds nothing. The indexer scores with the new version from the
 * generation bump on, so the passes converge; once the job completes no profile carries a mix of versions.
 */
export const modelRescore: Handler<'modelRescore'> = async ({ data, job, deps }) => {
  const { kind, version } = data;
  const report: RescoreReport = { kind, version, passes: 0, rescored: 0, remaining: 0 };
  const field = `models.${kind}`;
  const query = { bool: { must_not: [{ term: { [field]: version } }] } };
  for (; report.passes < deps.config.MODEL_RESCORE_MAX_PASSES;) {
    const active = (await deps.models.active(kind))[0];
    if (active?.version !== version) {
      report.superseded = active?.version;
      break;
    }
    await deps.es.indices.refresh({ index: deps.names.profiles });
    report.passes++;
    const pass: RefreshReport = await refreshProfiles({
      es: deps.es,
      alias: deps.names.profiles,
      profileOptions: deps.profileOptions,
      membership: deps.segments,
      scoring: deps.scoring,
      query,
      pageSize: deps.config.MODEL_PAGE_SIZE,
      logger: deps.logger,
      nowMs: deps.now(),
      onProgress: (r) => job.updateProgress({ pass: report.passes, rescored: report.rescored + r.refreshed, scanned: r.scanned }),
    });
    report.rescored += pass.refreshed;
    deps.metrics.segmentChanges.inc({ source: 'rescore' }, pass.segmentChanges);
    if (pass.scanned === 0) break;
  }
  if (report.superseded === undefined) {
    await deps.es.indices.refresh({ index: deps.names.profiles });
    report.remaining = (await deps.es.count({ index: deps.names.profiles, query })).count;
  }
  deps.logger.info(report, 'model re-score done');
  return report;
};
