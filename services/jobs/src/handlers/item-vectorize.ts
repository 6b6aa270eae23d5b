import { contentItemOf, ContentVectorizer, parseModelState, type ItemDoc } from '@portrait/shared';
import { pointInTimePages, type estypes } from '@portrait/runtime';
import type { Handler } from '../handler';

export interface VectorizeReport {
  version: number;
  passes: number;
  vectorized: number;
  /** Items changed while the pass read them: the indexer wrote them anew (the next pass checks its vector). */
  conflicts: number;
  superseded?: number;
  remaining: number;
}

const MAX_PASSES = 5;

/**
 * Gives every item the active content model's vector after a promotion: walks the items whose `contentModel`
 * differs, vectorizes them and writes each back only if it is unchanged since it was read (`if_seq_no`), so an
 * upsert the indexer made meanwhile is never overwritten with a vector of its older text. Pass after pass until a
 * pass finds nothing.
 */
export const itemVectorize: Handler<'itemVectorize'> = async ({ data, job, deps }) => {
  const { version } = data;
  const report: VectorizeReport = { version, passes: 0, vectorized: 0, conflicts: 0, remaining: 0 };
  const doc = await deps.models.get('content', version);
  const vectorizer = new ContentVectorizer(parseModelState('content', doc.state));
  const query: estypes.QueryDslQueryContainer = { bool: { must_not: [{ term: { contentModel: version } }] } };
  for (; report.passes < MAX_PASSES;) {
    const active = (await deps.models.active('content'))[0];
    if (active?.version !== version) {
      report.superseded = active?.version;
      break;
    }
    await deps.es.indices.refresh({ index: deps.names.items });
    report.passes++;
    let scanned = 0;
    const pages = pointInTimePages<ItemDoc>(deps.es, {
      index: deps.names.items,
      pageSize: deps.config.MODEL_PAGE_SIZE,
      query,
      request: { seq_no_primary_term: true, _source: ['title', 'description', 'category', 'brand', 'tags', 'price'] },
    });
    for await (const hits of pages) {
      scanned += hits.length;
      const operations = hits.flatMap((hit) => [
        { update: { _index: hit._index, _id: hit._id!, if_seq_no: hit._seq_no!, if_primary_term: hit._primary_term! } },
        { doc: { content: vectorizer.vector(contentItemOf(hit._source!)), contentModel: version } },
      ]);
      const res = await deps.es.bulk({ operations });
      for (const item of res.items) {
        const u = item.update!;
        if (u.status === 409) report.conflicts++;
        else if (u.error) throw new Error(`vectorizing ${u._id} failed: ${u.error.type} ${u.error.reason ?? ''}`);
        else report.vectorized++;
      }
      await job.updateProgress({ pass: report.passes, vectorized: report.vectorized });
    }
    if (scanned === 0) break;
  }
  if (report.superseded === undefined) {
    await deps.es.indices.refresh({ index: deps.names.items });
    report.remaining = (await deps.es.count({ index: deps.names.items, query })).count;
  }
  deps.logger.info(report, 'item vectorize done');
  return report;
};
