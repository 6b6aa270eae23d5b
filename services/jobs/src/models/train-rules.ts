import { mineRules, ValidationError, type RulesModel } from '@portrait/shared';
import { pointInTimePages } from '@portrait/runtime';
import type { Trainer } from './context';

/** The itemsets kept in the stored model: the rules are what is served; every itemset would only weigh on it. */
const STORED_ITEMSETS = 1000;

interface PurchaseSource {
  userId?: string;
  order?: { itemIds?: string[]; lines?: { itemId?: string; category?: string[] }[] };
}

const trim = (model: RulesModel): RulesModel => ({ ...model, itemsets: model.itemsets.slice(0, STORED_ITEMSETS) });

/**
 * FP-Growth over the purchase baskets of the events index within the window (an order is a basket, or with
 * `basket: 'user'` everything a user bought), at item level and at root-category level, from one point-in-time walk.
 */
export const trainRules: Trainer<'rules'> = async ({ deps, parameters, nowMs, progress }) => {
  const { windowDays, basket, ...mining } = parameters;
  const from = new Date(nowMs - windowDays * 86_400_000).toISOString();
  const to = new Date(nowMs).toISOString();
  const query = { bool: { filter: [{ term: { type: 'purchase' } }, { range: { timestamp: { gte: from, lte: to } } }] } };
  await deps.es.indices.refresh({ index: deps.names.events, allow_no_indices: true, ignore_unavailable: true });
  const total = (await deps.es.count({ index: deps.names.events, query, allow_no_indices: true, ignore_unavailable: true })).count;
  if (total === 0)
    throw new ValidationError(`no purchase between ${from} and ${to} in ${deps.names.events}: there are no baskets to mine`, [
      { path: 'events', reason: 'no purchase in the window; ingest orders or widen windowDays' },
    ]);
  const items: string[][] = [];
  const categories: string[][] = [];
  let user: string | undefined;
  let userItems = new Set<string>();
  let userRoots = new Set<string>();
  const close = (): void => {
    items.push([...userItems]);
    categories.push([...userRoots]);
    userItems = new Set();
    userRoots = new Set();
  };
  await progress({ phase: 'reading', rows: 0, total });
  const pages = pointInTimePages<PurchaseSource>(deps.es, {
    index: deps.names.events,
    pageSize: deps.config.MODEL_PAGE_SIZE,
    query,
    // By user, so one user's purchases arrive together when they make one basket.
    ...(basket === 'user' ? { sort: [{ userId: 'asc' as const }] } : {}),
    request: { _source: ['userId', 'order.itemIds', 'order.lines.category'] },
  });
  let read = 0;
  for await (const hits of pages) {
    for (const hit of hits) {
      const source = hit._source;
      if (basket === 'user' && source?.userId !== user) {
        if (user !== undefined) close();
        user = source?.userId;
      }
      for (const item of source?.order?.itemIds ?? []) userItems.add(item);
      for (const line of source?.order?.lines ?? []) if (line.category?.[0]) userRoots.add(line.category[0]);
      if (basket === 'order') close();
    }
    read += hits.length;
    await progress({ phase: 'reading', rows: read, total });
  }
  if (basket === 'user' && user !== undefined) close();
  await progress({ phase: 'fitting', rows: items.length, total });
  const item = mineRules(items, mining);
  const category = mineRules(categories, mining);
  const figures = (m: RulesModel) => ({
    baskets: m.baskets,
    distinctItems: m.distinctItems,
    minSupportCount: m.minSupportCount,
    itemsets: m.itemsets.length,
    rulesFound: m.rulesFound,
    rulesKept: m.rules.length,
    topLift: m.rules[0]?.lift ?? null,
  });
  return {
    algorithm: 'fp-growth',
    features: [],
    state: { item: trim(item), category: trim(category) },
    quality: { item: figures(item), category: figures(category) },
    training: { rows: items.length, source: 'events', from, to },
  };
};
