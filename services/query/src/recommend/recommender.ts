import { randomUUID } from 'node:crypto';
import {
  BASE_STRATEGIES,
  blend,
  categorySimilarity,
  ConflictError,
  decayedValue,
  diversify,
  foldInUser,
  hybridWeights,
  NotFoundError,
  own,
  rulesFor,
  type BaseStrategy,
  type Candidate,
  type IndexNames,
  type ItemRecommendationRequest,
  type ItemRecommendations,
  type ItemTrace,
  type Reason,
  type RecommendationRequest,
  type RecommendedItem,
  type Recommendations,
  type ShownTrace,
  type StoredNeighbour,
} from '@portrait/shared';
import { errors, type Client, type estypes } from '@portrait/runtime';
import { Popularity, type PopularScope } from './popularity';
import { factorsGone, type ServedModelCache, type ServedModels } from './served-models';

export interface RecommenderOptions {
  /** Items bought within this many days are never recommended again. */
  boughtDays: number;
  popularDays: number;
  trendingDays: number;
  halfLifeDays: number;
  now: () => number;
}

/** A history item the recommendations start from: its decayed weight now, and how the shopper met it. */
interface Seed {
  itemId: string;
  weight: number;
  how: 'viewed' | 'carted' | 'bought';
}

interface Shopper {
  userId: string;
  known: boolean;
  seeds: Seed[];
  /** Every item of the remembered history, plus purchases within the window: never recommended. */
  exclude: Set<string>;
  shown: Map<string, ShownTrace>;
  segments: string[];
  cluster?: { id: number; label?: string };
  /** Per request, fetched once whichever strategies need them. */
  lookups: Lookups;
}

interface SeedItem {
  seed: Seed;
  title: string;
  category?: string[];
  content?: number[];
}

interface SeedFactors {
  seed: Seed;
  vector?: number[];
  neighbours: StoredNeighbour[];
}

/** What the strategies of one request read about the shopper's items: one mget each, shared. */
class Lookups {
  private items?: Promise<SeedItem[]>;
  private factors?: Promise<SeedFactors[]>;
  private vector?: Promise<number[] | undefined>;

  constructor(
    private readonly es: Client,
    private readonly names: IndexNames,
    private readonly seeds: () => readonly Seed[],
  ) {}

  seedItems(): Promise<SeedItem[]> {
    this.items ??= (async () => {
      const seeds = this.seeds();
      if (seeds.length === 0) return [];
      const res = await this.es.mget<{ title?: string; category?: string[]; content?: number[] }>({
        index: this.names.items,
        ids: seeds.map((s) => s.itemId),
        _source_includes: ['title', 'category', 'content'],
      });
      return res.docs.flatMap((doc, i) =>
        'found' in doc && doc.found
          ? [{ seed: seeds[i]!, title: doc._source?.title ?? doc._id, category: doc._source?.category, content: doc._source?.content }]
          : [],
      );
    })();
    return this.items;
  }

  /** From the served collaborative version's own item-factor index (a pinned version is not behind the alias). */
  seedFactors(index: string): Promise<SeedFactors[]> {
    this.factors ??= (async () => {
      const seeds = this.seeds();
      if (seeds.length === 0) return [];
      const res = await this.es.mget<{ vector?: number[]; neighbours?: StoredNeighbour[] }>({
        index,
        ids: seeds.map((s) => s.itemId),
        _source_includes: ['vector', 'neighbours'],
      });
      return res.docs.flatMap((doc, i) => {
        if ('error' in doc && doc.error.type === 'index_not_found_exception') throw new IndexGoneError(index);
        return 'found' in doc && doc.found
          ? [{ seed: seeds[i]!, vector: doc._source?.vector, neighbours: doc._source?.neighbours ?? [] }]
          : [];
      });
    })();
    return this.factors;
  }

  /** Memoized: als and user_cf share it. */
  userVector(compute: () => Promise<number[] | undefined>): Promise<number[] | undefined> {
    this.vector ??= compute();
    return this.vector;
  }
}

interface CatalogueItem {
  title: string;
  category: string[];
  categoryPath?: string[];
  brand?: string;
  price: number;
  inStock?: boolean;
  content?: number[];
}

/** History items a recommendation starts from: the strongest by decayed weight. */
const SEEDS = 20;
/** Shoppers like this one whose items user_cf looks at. */
const NEIGHBOURS = 50;
const CASE_AMPLIFICATION = 2.5;
/** An item shown DAMPED_AFTER times since its last click weighs DAMPING as much (each impression damps it further). */
const DAMPING = 0.5;
const DAMPED_AFTER = 3;

/**
 * Answers "what should this shopper see next" from the live profile: the shopper's remembered items (decayed, so the
 * recent ones lead), the active content and collaborative models and the rules. Each strategy proposes candidates
 * with Elasticsearch (kNN over content or factor vectors, with the filters inside the kNN so k items survive them,
 * or a term lookup of co-occurrence neighbours); every candidate is then checked against the catalogue (in stock,
 * category, price, not excluded) before it is returned, whatever index proposed it.
 */
export class Recommender {
  private readonly popularity: Popularity;

  constructor(
    private readonly es: Client,
    private readonly names: IndexNames,
    private readonly models: ServedModelCache,
    private readonly options: RecommenderOptions,
  ) {
    this.popularity = new Popularity(es, names, options);
  }

  async forUser(userId: string, request: RecommendationRequest): Promise<Recommendations> {
    const [served, shopper] = await Promise.all([this.models.get(request.models), this.shopper(userId)]);
    for (const id of request.exclude ?? []) shopper.exclude.add(id);
    // Candidates per strategy: enough to survive the catalogue check and the blend, few enough to keep kNN cheap.
    const want = Math.min(100, request.k * (request.strategy === 'hybrid' ? 2 : 4));
    const coldStart = shopper.seeds.length === 0;
    const strategy = request.strategy;
    const weights = hybridWeights(served.collaborative?.quality, this.options.boughtDays);
    let lists: Partial<Record<BaseStrategy, Candidate[]>>;
    if (strategy === 'hybrid' && coldStart) lists = { popular: await this.popular(shopper, request, want) };
    else if (strategy === 'hybrid') lists = await factorsGuard(served, this.hybrid(shopper, request, served, weights, want));
    else lists = { [strategy]: await factorsGuard(served, this.run(strategy, shopper, request, served, want, true)) };
    // A strategy asked for alone answers in its own order, whatever its weight in the hybrid.
    const blended = blend(lists, strategy === 'hybrid' ? weights : {});
    const items = await this.finish(blended, shopper.exclude, shopper.shown, request);
    return {
      userId,
      requestId: randomUUID(),
      strategy,
      ...(strategy === 'hybrid' && coldStart ? { fallback: 'cold_start' as const } : {}),
      items,
      models: versions(served),
    };
  }

  async similar(itemId: string, request: ItemRecommendationRequest): Promise<ItemRecommendations> {
    const served = await this.models.get(request.models);
    if (!served.content) throw noModel('content', 'similar items');
    const item = await this.item(itemId, ['title', 'content']);
    if (!item.content)
      throw new ConflictError(
        `item ${itemId} has no content vector yet: the vectorize job of content v${served.content.version} has not reached it`,
      );
    const exclude = new Set([itemId, ...(request.exclude ?? [])]);
    const hits = await this.knn(this.names.items, 'content', item.content, Math.min(200, request.k * 3), request, exclude);
    const reason: Reason = { code: 'viewed', text: `similar to ${item.title}`, itemId };
    const candidates = hits.map((h) => ({ itemId: h.id, score: h.score, reason }));
    return {
      itemId,
      requestId: randomUUID(),
      items: await this.finish(blend({ content: candidates }), exclude, new Map(), { ...request, diversity: 0 }),
      models: versions(served),
    };
  }

  async alsoBought(itemId: string, request: ItemRecommendationRequest): Promise<ItemRecommendations> {
    const served = await this.models.get(request.models);
    if (!served.collaborative && !served.rules) throw noModel('collaborative', 'also-bought items');
    await this.item(itemId, ['title']); // 404 for an unknown item
    const seeds: Seed[] = [{ itemId, weight: 1, how: 'bought' }];
    const exclude = new Set([itemId, ...(request.exclude ?? [])]);
    const lookups = new Lookups(this.es, this.names, () => seeds);
    const candidates = await factorsGuard(
      served,
      this.itemCf(seeds, lookups, exclude, served, Math.min(200, request.k * 3), 'often bought with'),
    );
    return {
      itemId,
      requestId: randomUUID(),
      items: await this.finish(blend({ item_cf: candidates }), exclude, new Map(), { ...request, diversity: 0 }),
      models: versions(served),
    };
  }

  private async hybrid(
    shopper: Shopper,
    request: RecommendationRequest,
    served: ServedModels,
    weights: Readonly<Record<BaseStrategy, number>>,
    want: number,
  ): Promise<Partial<Record<BaseStrategy, Candidate[]>>> {
    const strategies = BASE_STRATEGIES.filter((s) => weights[s] > 0);
    const lists = await Promise.all(strategies.map((s) => this.run(s, shopper, request, served, want, false)));
    return Object.fromEntries(strategies.map((s, i) => [s, lists[i]!]));
  }

  /** One strategy's candidates; a missing model is a `409` when the strategy was asked for, and no candidates in a blend. */
  private async run(
    strategy: BaseStrategy,
    shopper: Shopper,
    request: RecommendationRequest,
    served: ServedModels,
    want: number,
    required: boolean,
  ): Promise<Candidate[]> {
    const missing = (kind: 'content' | 'collaborative'): Candidate[] => {
      if (required) throw noModel(kind, `strategy ${strategy}`);
      return [];
    };
    if (strategy === 'popular') return this.popular(shopper, request, want);
    if (shopper.seeds.length === 0) return [];
    switch (strategy) {
      case 'content':
        return served.content ? this.content(shopper, request, want) : missing('content');
      case 'item_cf':
        if (!served.collaborative && !served.rules) return missing('collaborative');
        return this.itemCf(shopper.seeds, shopper.lookups, shopper.exclude, served, want, 'because you');
      case 'als':
        return served.collaborative ? this.als(shopper, request, served, want) : missing('collaborative');
      case 'user_cf':
        return served.collaborative ? this.userCf(shopper, served, want) : missing('collaborative');
    }
  }

  private async shopper(userId: string): Promise<Shopper> {
    const shopper: Shopper = {
      userId,
      known: false,
      seeds: [],
      exclude: new Set(),
      shown: new Map(),
      segments: [],
      lookups: new Lookups(this.es, this.names, () => shopper.seeds),
    };
    let source: {
      state?: { items?: Record<string, ItemTrace>; shown?: Record<string, ShownTrace> };
      segments?: string[];
      cluster?: { id?: number; label?: string };
    };
    try {
      const res = await this.es.get<typeof source>({
        index: this.names.profiles,
        id: userId,
        _source_includes: ['state.items', 'state.shown', 'segments', 'cluster.id', 'cluster.label'],
      });
      source = res._source ?? {};
    } catch (error) {
      if (error instanceof errors.ResponseError && error.statusCode === 404) return shopper;
      throw error;
    }
    shopper.known = true;
    const now = this.options.now();
    const boughtSince = now - this.options.boughtDays * 86_400_000;
    const items = source.state?.items ?? {};
    const seeds: Seed[] = [];
    for (const itemId of Object.keys(items)) {
      const trace = own(items, itemId)!;
      const [score, asOf, , boughtAt] = trace;
      // Seen items are not news; a purchase is repeatable once the window has passed (coffee, not a sofa).
      if (boughtAt === 0 || boughtAt >= boughtSince) shopper.exclude.add(itemId);
      const weight = decayedValue([score, asOf], now, this.options.halfLifeDays);
      if (weight > 0) seeds.push({ itemId, weight, how: boughtAt > 0 ? 'bought' : score >= 3 ? 'carted' : 'viewed' });
    }
    seeds.sort((a, b) => b.weight - a.weight || (a.itemId < b.itemId ? -1 : 1));
    shopper.seeds = seeds.slice(0, SEEDS);
    for (const itemId of Object.keys(source.state?.shown ?? {})) shopper.shown.set(itemId, own(source.state!.shown!, itemId)!);
    shopper.segments = source.segments ?? [];
    if (typeof source.cluster?.id === 'number') shopper.cluster = { id: source.cluster.id, label: source.cluster.label };
    return shopper;
  }

  private async popular(shopper: Shopper, request: RecommendationRequest, want: number): Promise<Candidate[]> {
    const scopes: PopularScope[] = [];
    if (request.category) scopes.push({ kind: 'category', category: request.category });
    if (request.segment) scopes.push({ kind: 'segment', segmentId: request.segment });
    if (shopper.cluster && shopper.seeds.length > 0)
      scopes.push({ kind: 'cluster', clusterId: shopper.cluster.id, label: shopper.cluster.label });
    scopes.push({ kind: 'trending' }, { kind: 'overall' });
    // The narrowest scope first; a wider one fills up what it could not (a young segment, a quiet week).
    const seen = new Set<string>();
    const out: Candidate[] = [];
    for (const scope of scopes) {
      for (const c of await this.popularity.candidates(scope, want + shopper.exclude.size)) {
        if (seen.has(c.itemId) || shopper.exclude.has(c.itemId)) continue;
        seen.add(c.itemId);
        // Keep the narrower scope ahead: scores fall with each wider scope.
        out.push({ ...c, score: 1 / (out.length + 1) });
        if (out.length >= want) return out;
      }
    }
    return out;
  }

  private async content(shopper: Shopper, request: RecommendationRequest, want: number): Promise<Candidate[]> {
    const withVectors = (await shopper.lookups.seedItems()).flatMap((s) => (s.content ? [{ ...s, vector: s.content }] : []));
    if (withVectors.length === 0) return [];
    // The preference vector: the event-weighted, time-decayed mean of the shopper's items.
    const preference = new Array<number>(withVectors[0]!.vector.length).fill(0);
    for (const { seed, vector } of withVectors) vector.forEach((v, d) => (preference[d]! += seed.weight * v));
    const hits = await this.knn(this.names.items, 'content', preference, want, request, shopper.exclude, ['category']);
    // The reason names the strongest of the shopper's items in the candidate's nearest category (reading each hit's
    // vector to compare would double the kNN's cost).
    return hits.map((hit) => {
      let anchor = withVectors[0]!;
      let best = -Infinity;
      for (const candidate of withVectors) {
        const closeness = categorySimilarity(hit.category, candidate.category) * 1e6 + candidate.seed.weight;
        if (closeness > best) [anchor, best] = [candidate, closeness];
      }
      return { itemId: hit.id, score: hit.score, reason: because(anchor.seed, anchor.title, 'because you') };
    });
  }

  private async itemCf(
    seeds: readonly Seed[],
    lookups: Lookups,
    exclude: ReadonlySet<string>,
    served: ServedModels,
    want: number,
    phrase: 'because you' | 'often bought with',
  ): Promise<Candidate[]> {
    const scores = new Map<string, { score: number; anchor: Seed; best: number }>();
    const add = (itemId: string, amount: number, anchor: Seed): void => {
      if (exclude.has(itemId) || !(amount > 0)) return;
      const entry = scores.get(itemId) ?? { score: 0, anchor, best: 0 };
      entry.score += amount;
      if (amount > entry.best) [entry.anchor, entry.best] = [anchor, amount];
      scores.set(itemId, entry);
    };
    const top = seeds[0]?.weight ?? 1;
    const [factors, items] = await Promise.all([
      served.collaborative ? lookups.seedFactors(served.collaborative.state.itemIndex) : [],
      lookups.seedItems(),
    ]);
    for (const { seed, neighbours } of factors) for (const n of neighbours) add(n.itemId, (seed.weight / top) * n.score, seed);
    const titles = new Map(items.map((i) => [i.seed.itemId, i.title]));
    if (served.rules) {
      const bySeed = new Map(seeds.map((s) => [s.itemId, s]));
      for (const rule of rulesFor(served.rules.state.item, [...bySeed.keys()], { limit: 200 })) {
        const anchor = bySeed.get(rule.antecedent[0]!)!;
        // A rule is evidence of the same kind as a neighbour: weigh its confidence like a cosine, halved.
        for (const item of rule.consequent) add(item, (anchor.weight / top) * rule.confidence * 0.5, anchor);
      }
    }
    return [...scores]
      .sort(([ia, a], [ib, b]) => b.score - a.score || (ia < ib ? -1 : 1))
      .slice(0, want)
      .map(([itemId, { score, anchor }]) => ({
        itemId,
        score,
        reason:
          phrase === 'often bought with'
            ? { code: 'bought', text: `often bought with ${titles.get(anchor.itemId) ?? anchor.itemId}`, itemId: anchor.itemId }
            : because(anchor, titles.get(anchor.itemId) ?? anchor.itemId, phrase),
      }));
  }

  /**
   * The shopper's factor vector, folded in from their current items' factors (the ALS user step, so it follows what
   * they did since the training); the trained vector when none of their items has factors.
   */
  private userVector(shopper: Shopper, served: ServedModels): Promise<number[] | undefined> {
    return shopper.lookups.userVector(async () => {
      const state = served.collaborative!.state;
      const rows: number[][] = [];
      const weights: number[] = [];
      for (const { seed, vector } of await shopper.lookups.seedFactors(state.itemIndex)) {
        if (vector?.length !== state.factors) continue;
        rows.push(vector);
        weights.push(seed.weight);
      }
      if (rows.length > 0) {
        const parameters = { factors: state.factors, regularization: state.regularization, alpha: state.alpha, iterations: 1, seed: 0 };
        const folded = foldInUser(rows, weights, state.gram, parameters);
        if (folded.some((v) => v !== 0)) return folded;
      }
      try {
        const res = await this.es.get<{ vector?: number[] }>({
          index: state.userIndex,
          id: shopper.userId,
          _source_includes: ['vector'],
        });
        return res._source?.vector;
      } catch (error) {
        if (error instanceof errors.ResponseError && error.statusCode === 404 && goneIndex(error) === undefined) return undefined;
        throw error;
      }
    });
  }

  private async als(shopper: Shopper, request: RecommendationRequest, served: ServedModels, want: number): Promise<Candidate[]> {
    const vector = await this.userVector(shopper, served);
    if (!vector) return [];
    const hits = await this.knn(served.collaborative!.state.itemIndex, 'vector', vector, want, request, shopper.exclude);
    const reason: Reason = { code: 'taste', text: 'matches your taste' };
    return hits.map((h) => ({ itemId: h.id, score: h.score, reason }));
  }

  private async userCf(shopper: Shopper, served: ServedModels, want: number): Promise<Candidate[]> {
    const vector = await this.userVector(shopper, served);
    if (!vector) return [];
    const res = await this.es.search({
      index: served.collaborative!.state.userIndex,
      knn: {
        field: 'vector',
        query_vector: vector,
        k: NEIGHBOURS,
        num_candidates: 4 * NEIGHBOURS,
        filter: { bool: { must_not: [{ ids: { values: [shopper.userId] } }] } },
      },
      size: NEIGHBOURS,
      _source: false,
    });
    // Elasticsearch scores cosine as (1 + cos) / 2; back to cos, then amplified (Breese, Heckerman & Kadie 1998) so
    // the closest shoppers weigh most and unrelated ones (cos <= 0) not at all.
    const neighbours = res.hits.hits
      .filter((h) => h._id !== undefined)
      .map((h) => ({ id: h._id!, similarity: Math.max(0, 2 * (h._score ?? 0) - 1) ** CASE_AMPLIFICATION }))
      .filter((n) => n.similarity > 0);
    if (neighbours.length === 0) return [];
    // Their items from the profiles' doc values (`items.bought`, `items.recent`): no `_source` is parsed.
    const profiles = await this.es.search({
      index: this.names.profiles,
      size: neighbours.length,
      query: { ids: { values: neighbours.map((n) => n.id) } },
      _source: false,
      docvalue_fields: ['items.bought', 'items.recent'],
    });
    const similarity = new Map(neighbours.map((n) => [n.id, n.similarity]));
    const scores = new Map<string, number>();
    for (const hit of profiles.hits.hits) {
      const weight = similarity.get(hit._id ?? '') ?? 0;
      const bought = new Set((hit.fields?.['items.bought'] as string[] | undefined) ?? []);
      const recent = (hit.fields?.['items.recent'] as string[] | undefined) ?? [];
      // A purchase says more than a view or a cart: bought items count fully, the others a third.
      for (const itemId of new Set([...bought, ...recent])) {
        if (shopper.exclude.has(itemId)) continue;
        scores.set(itemId, (scores.get(itemId) ?? 0) + weight * (bought.has(itemId) ? 1 : 1 / 3));
      }
    }
    const reason: Reason = { code: 'similar_shoppers', text: 'bought by shoppers like you' };
    return [...scores]
      .sort(([ia, a], [ib, b]) => b - a || (ia < ib ? -1 : 1))
      .slice(0, want)
      .map(([itemId, score]) => ({ itemId, score, reason }));
  }

  private async knn(
    index: string,
    field: string,
    vector: number[],
    want: number,
    request: ItemRecommendationRequest,
    exclude: ReadonlySet<string>,
    source: string[] = [],
  ): Promise<{ id: string; score: number; category?: string[] }[]> {
    const res = await this.es.search<{ category?: string[] }>({
      index,
      knn: {
        field,
        query_vector: vector,
        k: want,
        num_candidates: Math.min(10_000, Math.max(100, want * 4)),
        filter: catalogueFilter(request, exclude),
      },
      size: want,
      _source: source.length > 0 ? source : false,
    });
    return res.hits.hits
      .filter((h) => h._id !== undefined)
      .map((h) => ({ id: h._id!, score: h._score ?? 0, category: h._source?.category }));
  }

  private async item(itemId: string, fields: string[]): Promise<CatalogueItem> {
    try {
      const res = await this.es.get<CatalogueItem>({ index: this.names.items, id: itemId, _source_includes: fields });
      return res._source!;
    } catch (error) {
      if (error instanceof errors.ResponseError && error.statusCode === 404) throw new NotFoundError(`no item ${itemId} in the catalogue`);
      throw error;
    }
  }

  /** Checks every candidate against the catalogue, damps items shown without a click, diversifies, cuts to k. */
  private async finish(
    ranked: ReturnType<typeof blend>,
    exclude: ReadonlySet<string>,
    shown: ReadonlyMap<string, ShownTrace>,
    request: ItemRecommendationRequest & { diversity: number },
  ): Promise<RecommendedItem[]> {
    const candidates = ranked.filter((c) => !exclude.has(c.itemId));
    if (candidates.length === 0) return [];
    const res = await this.es.mget<CatalogueItem>({
      index: this.names.items,
      ids: candidates.map((c) => c.itemId),
      _source_includes: ['title', 'category', 'categoryPath', 'brand', 'price', 'inStock'],
    });
    const catalogue = new Map<string, CatalogueItem>();
    for (const doc of res.docs) if ('found' in doc && doc.found && doc._source) catalogue.set(doc._id, doc._source);
    const kept = candidates
      .filter((c) => {
        const item = catalogue.get(c.itemId);
        return item !== undefined && passes(item, request);
      })
      .map((c) => {
        const trace = shown.get(c.itemId);
        const unclicked = trace !== undefined && trace[2] < trace[1] ? trace[0] : 0;
        return { ...c, score: c.score * DAMPING ** (unclicked / DAMPED_AFTER) };
      })
      .sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1));
    const picked = diversify(kept, {
      diversity: request.diversity,
      k: request.k,
      similarity: (a, b) => categorySimilarity(catalogue.get(a)?.category, catalogue.get(b)?.category),
    });
    return picked.map((c, i) => {
      const item = catalogue.get(c.itemId)!;
      return {
        itemId: c.itemId,
        position: i + 1,
        score: Math.round(c.score * 1e6) / 1e6,
        strategies: c.strategies,
        reason: c.reason,
        title: item.title,
        category: item.category,
        ...(item.brand === undefined ? {} : { brand: item.brand }),
        price: item.price,
      };
    });
  }
}

function because(seed: Seed, title: string, phrase: 'because you'): Reason {
  return { code: seed.how, text: `${phrase} ${seed.how} ${title}`, itemId: seed.itemId };
}

/** A served collaborative version whose factor index was deleted since it was loaded: a `409`, not a `500`. */
async function factorsGuard<T>(served: ServedModels, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const index = error instanceof IndexGoneError ? error.index : goneIndex(error);
    if (served.collaborative && index !== undefined) throw factorsGone(served.collaborative.version, 'served', index);
    throw error;
  }
}

class IndexGoneError extends Error {
  constructor(readonly index: string) {
    super(`index ${index} does not exist`);
  }
}

/** The index an Elasticsearch error says does not exist, if that is what it says. */
function goneIndex(error: unknown): string | undefined {
  if (!(error instanceof errors.ResponseError)) return undefined;
  const body = error.body as { error?: { type?: string; index?: string } } | undefined;
  return body?.error?.type === 'index_not_found_exception' ? (body.error.index ?? 'unknown') : undefined;
}

function noModel(kind: 'content' | 'collaborative', what: string): ConflictError {
  return new ConflictError(`${what} needs an active ${kind} model: train one (POST /v1/models/${kind}/train) and promote it`);
}

function versions(served: ServedModels): Recommendations['models'] {
  return {
    ...(served.content ? { content: served.content.version } : {}),
    ...(served.collaborative ? { collaborative: served.collaborative.version } : {}),
    ...(served.rules ? { rules: served.rules.version } : {}),
  };
}

/** In stock, in the category, in the price range, not excluded: inside the kNN, so k candidates survive it. */
function catalogueFilter(request: ItemRecommendationRequest, exclude: ReadonlySet<string>): estypes.QueryDslQueryContainer {
  const filter: estypes.QueryDslQueryContainer[] = [{ term: { inStock: true } }];
  if (request.category) filter.push({ term: { categoryPath: request.category } });
  if (request.minPrice !== undefined || request.maxPrice !== undefined)
    filter.push({ range: { price: { gte: request.minPrice, lte: request.maxPrice } } });
  return { bool: { filter, must_not: exclude.size > 0 ? [{ ids: { values: [...exclude] } }] : [] } };
}

function passes(item: CatalogueItem, request: ItemRecommendationRequest): boolean {
  if (item.inStock === false) return false;
  if (request.category && !(item.categoryPath ?? []).includes(request.category)) return false;
  if (request.minPrice !== undefined && item.price < request.minPrice) return false;
  if (request.maxPrice !== undefined && item.price > request.maxPrice) return false;
  return true;
}
