import {
  CooccurrenceCounter,
  DEFAULT_INTERACTION_WEIGHTS,
  INTERACTION_TYPES,
  InteractionsBuilder,
  topItems,
  trainAls,
  ValidationError,
  type AlsFactors,
  type CollaborativeState,
  type Interactions,
  type ItemFactorsDoc,
  type Neighbour,
  type UserFactorsDoc,
} from '@portrait/shared';
import { pointInTimePages, readDefinition, type Client, type estypes } from '@portrait/runtime';
import type { JobsDeps } from '../handler';
import type { Trainer } from './context';

type InteractionType = (typeof INTERACTION_TYPES)[number];

interface InteractionSource {
  userId?: string;
  type?: InteractionType;
  itemId?: string;
  timestamp?: string;
  order?: { itemIds?: string[] };
}

/** Users whose held-out item is ranked to measure quality (a seeded sample would add nothing at this size). */
const EVALUATED_USERS = 5000;
const EVALUATION_K = 10;
/** Interactions that make an item part of a user's "also bought" basket. */
const BASKET_TYPES: ReadonlySet<string> = new Set(['purchase', 'add_to_cart']);
const WRITE_CHUNK = 500;

/**
 * Reads the weighted user x item interactions of the window from the events index (one point-in-time walk, by user
 * and time), then:
 * - evaluates: each user's latest item is held out, ALS is fitted on the rest and ranks it against a popularity
 *   ranking of the same training data (hit rate and NDCG at 10);
 * - fits ALS on everything, and counts item co-occurrence over the users' bought-or-carted baskets;
 * - writes the factors and neighbours to an index pair of this run, which promotion puts behind the serving aliases.
 */
export const trainCollaborative: Trainer<'collaborative'> = async ({ deps, parameters, seed, nowMs, progress }) => {
  const { windowDays, weights, als, cooccurrence } = parameters;
  const types = INTERACTION_TYPES.filter((t) => weights[t] > 0);
  const from = new Date(nowMs - windowDays * 86_400_000).toISOString();
  const to = new Date(nowMs).toISOString();
  const query: estypes.QueryDslQueryContainer = {
    bool: { filter: [{ terms: { type: types } }, { range: { timestamp: { gte: from, lte: to } } }] },
  };
  await deps.es.indices.refresh({ index: deps.names.events, allow_no_indices: true, ignore_unavailable: true });
  const total = (await deps.es.count({ index: deps.names.events, query, allow_no_indices: true, ignore_unavailable: true })).count;
  const nothing = (reason: string) =>
    new ValidationError(`no interaction between ${from} and ${to} in ${deps.names.events}: ${reason}`, [
      { path: 'events', reason: 'no interaction with an item in the window; ingest behaviour or widen windowDays' },
    ]);
  if (total === 0) throw nothing('there is nothing to factorize');

  const full = new InteractionsBuilder();
  const train = new InteractionsBuilder();
  const heldOut = new Map<string, string>();
  const baskets = new CooccurrenceCounter({ ...cooccurrence });
  let user: string | undefined;
  let items = new Map<string, { weight: number; lastAt: number; basket: boolean }>();
  const close = (): void => {
    if (user === undefined || items.size === 0) return;
    let latest: string | undefined;
    let latestAt = -Infinity;
    for (const [item, seen] of items)
      if (seen.lastAt > latestAt || (seen.lastAt === latestAt && item > (latest ?? ''))) [latest, latestAt] = [item, seen.lastAt];
    const holdOut = items.size >= 2 ? latest : undefined;
    if (holdOut !== undefined && heldOut.size < EVALUATED_USERS) heldOut.set(user, holdOut);
    for (const [item, seen] of items) {
      full.add(user, item, seen.weight);
      if (item !== holdOut || !heldOut.has(user)) train.add(user, item, seen.weight);
    }
    const basket = [...items].filter(([, seen]) => seen.basket).map(([item]) => item);
    if (basket.length >= 2) baskets.addBasket(basket);
    items = new Map();
  };

  await progress({ phase: 'reading', rows: 0, total });
  let read = 0;
  const pages = pointInTimePages<InteractionSource>(deps.es, {
    index: deps.names.events,
    pageSize: deps.config.MODEL_PAGE_SIZE,
    query,
    sort: [{ userId: 'asc' }, { timestamp: 'asc' }],
    request: { _source: ['userId', 'type', 'itemId', 'timestamp', 'order.itemIds'] },
  });
  for await (const hits of pages) {
    for (const hit of hits) {
      const source = hit._source;
      if (source?.userId === undefined || source.type === undefined) continue;
      if (source.userId !== user) {
        close();
        user = source.userId;
      }
      const weight = weights[source.type] ?? 0;
      const at = source.timestamp === undefined ? 0 : Date.parse(source.timestamp);
      const ids = source.type === 'purchase' ? (source.order?.itemIds ?? []) : source.itemId === undefined ? [] : [source.itemId];
      for (const id of ids) {
        const seen = items.get(id) ?? { weight: 0, lastAt: 0, basket: false };
        seen.weight += weight;
        seen.lastAt = Math.max(seen.lastAt, at);
        seen.basket ||= BASKET_TYPES.has(source.type);
        items.set(id, seen);
      }
    }
    read += hits.length;
    await progress({ phase: 'reading', rows: read, total });
  }
  close();
  if (full.pairs === 0) throw nothing('no event names an item');

  await progress({ phase: 'fitting', rows: full.pairs, total });
  const quality = evaluate(train.build(), heldOut, { ...als, seed });
  const data = full.build();
  const factors = trainAls(data, { ...als, seed });
  const neighbours = baskets.finish();

  const run = `${nowMs.toString(36)}s${seed.toString(36)}`;
  const itemIndex = deps.names.itemFactorsOf(run);
  const userIndex = deps.names.userFactorsOf(run);
  await progress({ phase: 'storing', rows: full.pairs, total });
  try {
    await writeFactors(deps, { itemIndex, userIndex }, data, factors, neighbours);
    await pruneFactors(deps);
  } catch (error) {
    await deps.es.indices.delete({ index: [itemIndex, userIndex], ignore_unavailable: true }).catch(() => undefined);
    throw error;
  }
  const state: CollaborativeState = {
    run,
    itemIndex,
    userIndex,
    factors: factors.factors,
    regularization: als.regularization,
    alpha: als.alpha,
    gram: Array.from(factors.gram),
    weights: { ...DEFAULT_INTERACTION_WEIGHTS, ...weights },
    users: data.userIds.length,
    items: data.itemIds.length,
    pairs: full.pairs,
  };
  return {
    algorithm: 'implicit-als+cooccurrence',
    features: [],
    state,
    quality: {
      ...quality,
      users: data.userIds.length,
      items: data.itemIds.length,
      pairs: full.pairs,
      itemsWithNeighbours: neighbours.size,
      loss: factors.loss.map((l) => Math.round(l * 1000) / 1000),
    },
    training: { rows: full.pairs, source: 'events', from, to },
  };
};

/** Leave-latest-out hit rate and NDCG at 10 of ALS and of popularity, on the training split. */
function evaluate(
  data: Interactions,
  heldOut: ReadonlyMap<string, string>,
  als: Parameters<typeof trainAls>[1],
): Record<string, number | null> {
  if (heldOut.size === 0 || data.itemIds.length === 0)
    return { evaluatedUsers: 0, hitRate: null, ndcg: null, popularHitRate: null, popularNdcg: null };
  const factors = trainAls(data, als);
  const f = factors.factors;
  const itemIndex = new Map(data.itemIds.map((id, i) => [id, i]));
  const popularity = data.itemIds.map((_, i) => ({ item: i, users: data.itemPtr[i + 1]! - data.itemPtr[i]! }));
  popularity.sort((a, b) => b.users - a.users || a.item - b.item);
  let users = 0;
  const sums = { hit: 0, ndcg: 0, popularHit: 0, popularNdcg: 0 };
  const gain = (rank: number) => (rank < 0 ? 0 : 1 / Math.log2(rank + 2));
  data.userIds.forEach((userId, u) => {
    const held = heldOut.get(userId);
    if (held === undefined) return;
    users++;
    const target = itemIndex.get(held);
    if (target === undefined) return;
    const own = new Set<number>();
    for (let p = data.userPtr[u]!; p < data.userPtr[u + 1]!; p++) own.add(data.userItems[p]!);
    const vector = factors.userFactors.subarray(u * f, (u + 1) * f);
    const alsRank = topItems(vector, factors.itemFactors, f, EVALUATION_K, own).findIndex((s) => s.item === target);
    const popular: number[] = [];
    for (const p of popularity) {
      if (popular.length === EVALUATION_K) break;
      if (!own.has(p.item)) popular.push(p.item);
    }
    const popularRank = popular.indexOf(target);
    sums.hit += alsRank >= 0 ? 1 : 0;
    sums.ndcg += gain(alsRank);
    sums.popularHit += popularRank >= 0 ? 1 : 0;
    sums.popularNdcg += gain(popularRank);
  });
  const mean = (x: number) => (users === 0 ? null : Math.round((x / users) * 10_000) / 10_000);
  return {
    evaluatedUsers: users,
    hitRate: mean(sums.hit),
    ndcg: mean(sums.ndcg),
    popularHitRate: mean(sums.popularHit),
    popularNdcg: mean(sums.popularNdcg),
  };
}

async function createFactorIndex(es: Client, index: string, definition: 'item-factors' | 'user-factors', dims: number): Promise<void> {
  const def = readDefinition(definition);
  const properties = { ...def.mappings.properties, vector: { ...def.mappings.properties!.vector, dims } as estypes.MappingProperty };
  await es.indices.create({ index, settings: { ...def.settings, refresh_interval: '-1' }, mappings: { ...def.mappings, properties } });
}

async function bulkWrite(es: Client, index: string, docs: readonly { id: string; doc: object }[]): Promise<void> {
  if (docs.length === 0) return;
  const res = await es.bulk({ operations: docs.flatMap(({ id, doc }) => [{ index: { _index: index, _id: id } }, doc]) });
  const failed = res.items.map((i) => i.index!).find((i) => i.error);
  if (failed) throw new Error(`writing factors to ${index} failed for ${failed._id}: ${failed.error?.type} ${failed.error?.reason ?? ''}`);
}

const rounded = (values: Float32Array): number[] => Array.from(values, (v) => Math.round(v * 1e6) / 1e6);

async function writeFactors(
  deps: JobsDeps,
  indices: { itemIndex: string; userIndex: string },
  data: Interactions,
  factors: AlsFactors,
  neighbours: ReadonlyMap<string, readonly Neighbour[]>,
): Promise<void> {
  const f = factors.factors;
  await createFactorIndex(deps.es, indices.itemIndex, 'item-factors', f);
  await createFactorIndex(deps.es, indices.userIndex, 'user-factors', f);
  for (let start = 0; start < data.itemIds.length; start += WRITE_CHUNK) {
    const ids = data.itemIds.slice(start, start + WRITE_CHUNK);
    const catalogue = await deps.es.mget<{ inStock?: boolean; categoryPath?: string[]; price?: number }>({
      index: deps.names.items,
      ids,
      _source_includes: ['inStock', 'categoryPath', 'price'],
    });
    const docs = ids.map((itemId, i) => {
      const found = catalogue.docs[i];
      const item = found && 'found' in found && found.found ? found._source : undefined;
      const doc: ItemFactorsDoc = {
        itemId,
        vector: rounded(factors.itemFactors.subarray((start + i) * f, (start + i + 1) * f)),
        neighbours: (neighbours.get(itemId) ?? []).map((n) => ({
          ...n,
          score: Math.round(n.score * 1e6) / 1e6,
          lift: Math.round(n.lift * 1e4) / 1e4,
        })),
        ...(item ? { inStock: item.inStock, categoryPath: item.categoryPath, price: item.price } : {}),
      };
      return { id: itemId, doc };
    });
    await bulkWrite(deps.es, indices.itemIndex, docs);
  }
  for (let start = 0; start < data.userIds.length; start += WRITE_CHUNK) {
    const docs: { id: string; doc: UserFactorsDoc }[] = [];
    const chunk = data.userIds.slice(start, start + WRITE_CHUNK);
    // A user erased while the training ran gets no vector (their events were read before the erasure).
    const erased = await deps.tombstones.erasedAmong(chunk);
    chunk.forEach((userId, i) => {
      if (erased.has(userId)) return;
      const vector = rounded(factors.userFactors.subarray((start + i) * f, (start + i + 1) * f));
      // Cosine similarity is undefined for a zero vector, which Elasticsearch refuses; a shopper whose only item nobody
      // else touched can round to one.
      if (vector.some((v) => v !== 0)) docs.push({ id: userId, doc: { userId, vector } });
    });
    await bulkWrite(deps.es, indices.userIndex, docs);
  }
  await deps.es.indices.putSettings({ index: [indices.itemIndex, indices.userIndex], settings: { refresh_interval: '5s' } });
  await deps.es.indices.refresh({ index: [indices.itemIndex, indices.userIndex] });
}

/** Factor indices kept per status besides the active version's: enough to roll back, or to pin and compare. */
const KEPT_FACTORS = { retired: 1, trained: 2 } as const;

/**
 * Deletes the factor indices of old versions: all but the newest retired one (a rollback can promote it again) and
 * the two newest trained ones never promoted (they can be pinned with `models=collaborative:<version>` and compared).
 * The run being written has no model document yet, so it is never among them.
 */
async function pruneFactors(deps: JobsDeps): Promise<void> {
  const versions = (await deps.models.list('collaborative')).sort((a, b) => b.version - a.version);
  const old = (['retired', 'trained'] as const).flatMap((status) =>
    versions.filter((m) => m.status === status).slice(KEPT_FACTORS[status]),
  );
  for (const summary of old) {
    const doc = await deps.models.get('collaborative', summary.version);
    const state = doc.state as Partial<CollaborativeState>;
    const indices = [state.itemIndex, state.userIndex].filter((i): i is string => typeof i === 'string');
    if (indices.length > 0) await deps.es.indices.delete({ index: indices, ignore_unavailable: true });
  }
}
