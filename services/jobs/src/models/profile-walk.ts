import { ValidationError, type ModelTrainProgress, type ProfileDoc } from '@portrait/shared';
import { pointInTimePages, type Client } from '@portrait/runtime';

/** What a model reads of a stored profile: the whole derived document, never contact data; the fold state only when asked. */
const EXCLUDED = ['segmentOutbox', 'contact'];

/**
 * Hands every profile to `visit`, one page at a time through a point in time (bounded memory: a page), and
 * reports progress after each page. Refuses an empty profile index with a clear error, since no model can be
 * fitted on nothing.
 */
export async function walkProfiles(
  es: Client,
  alias: string,
  pageSize: number,
  visit: (doc: ProfileDoc) => void,
  progress: (p: ModelTrainProgress) => Promise<void>,
  /** Read the fold state too (risk signals come from it); it is most of a profile's size, so others leave it. */
  options: { withState?: boolean } = {},
): Promise<number> {
  const excludes = options.withState ? EXCLUDED : [...EXCLUDED, 'state'];
  await es.indices.refresh({ index: alias });
  const total = (await es.count({ index: alias })).count;
  if (total === 0)
    throw new ValidationError(`the profile index ${alias} holds no profiles yet: there is nothing to train on`, [
      { path: 'profiles', reason: 'empty; ingest events first' },
    ]);
  let rows = 0;
  await progress({ phase: 'reading', rows, total });
  for await (const hits of pointInTimePages<ProfileDoc>(es, { index: alias, pageSize, request: { _source: { excludes } } })) {
    for (const hit of hits) if (hit._source) visit(hit._source);
    rows += hits.length;
    await progress({ phase: 'reading', rows, total });
  }
  return rows;
}
