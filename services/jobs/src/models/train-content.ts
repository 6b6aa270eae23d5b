import {
  ContentFitter,
  ContentVectorizer,
  contentItemOf,
  cosine,
  mulberry32,
  ValidationError,
  type ContentItem,
  type ItemDoc,
} from '@portrait/shared';
import { pointInTimePages } from '@portrait/runtime';
import type { Trainer } from './context';

/** Items kept aside (a seeded reservoir) to measure how well nearest neighbours agree on category. */
const QUALITY_SAMPLE = 2000;
const QUALITY_QUERIES = 500;

type Sampled = { item: ContentItem; root: string };

/**
 * Fits the content model on the whole catalogue in one point-in-time walk: the vocabulary's document frequencies
 * and the price bands. Quality: over a sample, how often an item's nearest neighbour by content vector shares its
 * root category, against the rate two random items of the sample share one (the baseline).
 */
export const trainContent: Trainer<'content'> = async ({ deps, parameters, seed, progress }) => {
  await deps.es.indices.refresh({ index: deps.names.items });
  const total = (await deps.es.count({ index: deps.names.items })).count;
  if (total === 0)
    throw new ValidationError(`${deps.names.items} holds no item: there is no catalogue to fit`, [
      { path: 'items', reason: 'no item; upsert the catalogue through POST /v1/items first' },
    ]);
  const fitter = new ContentFitter(parameters);
  const rng = mulberry32(seed);
  const sample: Sampled[] = [];
  let read = 0;
  await progress({ phase: 'reading', rows: 0, total });
  const pages = pointInTimePages<ItemDoc>(deps.es, {
    index: deps.names.items,
    pageSize: deps.config.MODEL_PAGE_SIZE,
    request: { _source: ['title', 'description', 'category', 'brand', 'tags', 'price'] },
  });
  for await (const hits of pages) {
    for (const hit of hits) {
      if (hit._source === undefined) continue;
      const item = contentItemOf(hit._source);
      fitter.add(item);
      read++;
      const entry = { item, root: item.category[0] ?? '' };
      if (sample.length < QUALITY_SAMPLE) sample.push(entry);
      else {
        const slot = Math.floor(rng() * read);
        if (slot < QUALITY_SAMPLE) sample[slot] = entry;
      }
    }
    await progress({ phase: 'reading', rows: read, total });
  }
  await progress({ phase: 'fitting', rows: read, total });
  const state = fitter.finish();
  return {
    algorithm: 'tf-idf-random-projection',
    features: [],
    state,
    quality: { vocabulary: state.idf.length, dims: state.dims, ...neighbourAgreement(new ContentVectorizer(state), sample) },
    training: { rows: read, source: 'items' },
  };
};

/** Share of sampled items whose nearest other sampled item shares their root category, and the chance rate. */
function neighbourAgreement(
  vectorizer: ContentVectorizer,
  sample: readonly Sampled[],
): { neighbourSameCategory: number; randomSameCategory: number } {
  const vectors = sample.map((s) => vectorizer.vector(s.item));
  const queries = Math.min(QUALITY_QUERIES, sample.length);
  let agree = 0;
  for (let q = 0; q < queries; q++) {
    let best = -1;
    let bestScore = -Infinity;
    for (let j = 0; j < sample.length; j++) {
      if (j === q) continue;
      const score = cosine(vectors[q]!, vectors[j]!);
      if (score > bestScore) [best, bestScore] = [j, score];
    }
    if (best >= 0 && sample[best]!.root === sample[q]!.root) agree++;
  }
  const roots = new Map<string, number>();
  for (const s of sample) roots.set(s.root, (roots.get(s.root) ?? 0) + 1);
  let chance = 0;
  for (const n of roots.values()) chance += (n / sample.length) ** 2;
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  return { neighbourSameCategory: queries === 0 ? 0 : round(agree / queries), randomSameCategory: round(chance) };
}
