import {
  modelsGenerationKey,
  NotFoundError,
  parseModelState,
  RFM_GROUPS,
  RFM_TIERS,
  rulesFor,
  type AssociationRule,
  type ModelDoc,
  type RulesState,
  type ScoredModelKind,
} from '@portrait/shared';
import { GenerationCache, type Client, type estypes, type ModelStore, type Redis } from '@portrait/runtime';
import type { z } from 'zod';
import type { RulesQuery } from '@portrait/shared';

interface Bucket {
  key: string | number;
  doc_count: number;
  spend?: { value: number | null };
}
type Buckets = { buckets: (Bucket & Record<string, unknown>)[] };

const money = (v: number | null | undefined): number => Math.round((v ?? 0) * 100) / 100;

const ref = (doc: ModelDoc) => ({ modelId: doc.modelId, version: doc.version, ...(doc.promotedAt ? { promotedAt: doc.promotedAt } : {}) });

/** "bought A -> also buys B, confidence 0.8, lift 3.2, support 120 baskets". */
export function ruleText(rule: AssociationRule): string {
  const round = (n: number) => Math.round(n * 100) / 100;
  return `bought ${rule.antecedent.join(' + ')} -> also buys ${rule.consequent.join(' + ')}, confidence ${round(rule.confidence)}, lift ${round(
    rule.lift,
  )}, support ${rule.support} baskets`;
}

/**
 * What the active models say about the population: the RFM grid and the clusters counted live on the profiles
 * each version scored, and the association rules of the active rules model (cached until the next promotion).
 */
export class Insights {
  private readonly rulesCache: GenerationCache<{ doc: ModelDoc; state: RulesState } | undefined>;

  constructor(
    private readonly es: Client,
    private readonly profiles: string,
    private readonly store: ModelStore,
    redis: Redis,
    namespace: string,
  ) {
    this.rulesCache = new GenerationCache(
      redis,
      modelsGenerationKey(namespace),
      async () => {
        const doc = (await this.store.active('rules'))[0];
        return doc ? { doc, state: parseModelState('rules', doc.state) } : undefined;
      },
      undefined,
    );
  }

  private async active(kind: ScoredModelKind | 'rules'): Promise<ModelDoc> {
    const doc = (await this.store.active(kind))[0];
    if (!doc) throw new NotFoundError(`no ${kind} model is active yet: train one (POST /v1/models/${kind}/train) and promote it`);
    return doc;
  }

  private async aggregate(kind: ScoredModelKind, version: number, aggs: Record<string, estypes.AggregationsAggregationContainer>) {
    const res = await this.es.search({
      index: this.profiles,
      size: 0,
      track_total_hits: true,
      query: { term: { [`models.${kind}`]: version } },
      aggs,
    });
    const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
    return { total, aggregations: (res.aggregations ?? {}) as Record<string, Buckets> };
  }

  async rfm() {
    const doc = await this.active('rfm');
    const spend = { spend: { sum: { field: 'purchases.totalSpend' } } };
    const { total, aggregations } = await this.aggregate('rfm', doc.version, {
      r: { terms: { field: 'rfm.r', size: 5 }, aggs: { f: { terms: { field: 'rfm.f', size: 5 }, aggs: spend } } },
      tiers: { terms: { field: 'value.tier', size: RFM_TIERS.length }, aggs: spend },
      groups: { terms: { field: 'rfm.group', size: RFM_GROUPS.length }, aggs: spend },
    });
    const cells = new Map<string, Bucket>();
    for (const r of aggregations.r?.buckets ?? []) for (const f of (r.f as Buckets).buckets) cells.set(`${r.key}:${f.key}`, f);
    const grid = [];
    for (let r = 5; r >= 1; r--)
      for (let f = 1; f <= 5; f++) {
        const cell = cells.get(`${r}:${f}`);
        grid.push({ r, f, profiles: cell?.doc_count ?? 0, spend: money(cell?.spend?.value) });
      }
    const byKey = (name: string) => new Map((aggregations[name]?.buckets ?? []).map((b) => [String(b.key), b]));
    const tiers = byKey('tiers');
    const groups = byKey('groups');
    return {
      model: ref(doc),
      profiles: total,
      grid,
      tiers: RFM_TIERS.map((tier) => ({ tier, profiles: tiers.get(tier)?.doc_count ?? 0, spend: money(tiers.get(tier)?.spend?.value) })),
      groups: RFM_GROUPS.map((group) => ({
        group,
        profiles: groups.get(group)?.doc_count ?? 0,
        spend: money(groups.get(group)?.spend?.value),
      })),
    };
  }

  async clusters() {
    const doc = await this.active('clusters');
    const model = parseModelState('clusters', doc.state);
    const { aggregations } = await this.aggregate('clusters', doc.version, {
      clusters: { terms: { field: 'cluster.id', size: model.k }, aggs: { spend: { avg: { field: 'purchases.totalSpend' } } } },
    });
    const live = new Map((aggregations.clusters?.buckets ?? []).map((b) => [Number(b.key), b]));
    return {
      model: { ...ref(doc), k: model.k, silhouette: model.quality.chosen.silhouette, daviesBouldin: model.quality.chosen.daviesBouldin },
      clusters: model.labels.map((label) => ({
        ...label,
        profiles: live.get(label.clusterId)?.doc_count ?? 0,
        avgSpend: money(live.get(label.clusterId)?.spend?.value),
      })),
    };
  }

  async rules(query: z.output<typeof RulesQuery>) {
    const active = await this.rulesCache.get();
    if (!active) throw new NotFoundError('no rules model is active yet: train one (POST /v1/models/rules/train) and promote it');
    const model = active.state[query.level];
    const keep = (r: AssociationRule) =>
      r.lift >= (query.minLift ?? 0) && r.confidence >= (query.minConfidence ?? 0) && r.support >= (query.minSupport ?? 0);
    const rules = query.item?.length
      ? rulesFor({ ...model, rules: model.rules.filter(keep) }, query.item, { limit: query.limit })
      : model.rules.filter(keep).slice(0, query.limit);
    return {
      model: { ...ref(active.doc), baskets: model.baskets },
      level: query.level,
      rules: rules.map((r) => ({ ...r, text: ruleText(r) })),
    };
  }
}
