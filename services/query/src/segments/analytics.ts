import {
  BREAKDOWNS,
  HIDDEN_SOURCE_PATHS,
  NotFoundError,
  compileSegment,
  parseSegmentDefinition,
  segmentPredicate,
  type Breakdown,
  type ProfileDoc,
  type SegmentDefinition,
} from '@portrait/shared';
import { errors, withEs, type Client, type estypes } from '@portrait/runtime';
import type { PublicProfile } from '../profiles';
import type { Segment } from './store';

export type Definition = SegmentDefinition;

export interface PreviewAnswer {
  count: number;
  sample: PublicProfile[];
  breakdowns?: Record<string, { value: string; count: number }[]>;
  overlaps?: { segmentId: string; version: number; both: number; onlyPreview: number; onlySegment: number }[];
}

/** Live answers about segments, computed from the profile index at the moment of the call. */
export class SegmentAnalytics {
  constructor(
    private readonly es: Client,
    private readonly profiles: string,
    private readonly now: () => number = Date.now,
  ) {}

  query(definition: Definition): estypes.QueryDslQueryContainer {
    return compileSegment(definition, this.now()) as estypes.QueryDslQueryContainer;
  }

  async count(definition: Definition): Promise<number> {
    return (await withEs(() => this.es.count({ index: this.profiles, query: this.query(definition) }))).count;
  }

  async sample(definition: Definition, size: number): Promise<{ count: number; sample: PublicProfile[] }> {
    const res = await withEs(() =>
      this.es.search<PublicProfile>({
        index: this.profiles,
        query: this.query(definition),
        size,
        track_total_hits: true,
        sort: [{ 'behavior.lastSeen': { order: 'desc', missing: '_last' } }, { userId: 'asc' }],
        _source: { excludes: [...HIDDEN_SOURCE_PATHS] },
      }),
    );
    const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
    return { count: total, sample: res.hits.hits.map((h) => h._source!) };
  }

  async breakdown(
    definition: Definition,
    by: Breakdown[],
    size = 10,
  ): Promise<{ count: number; breakdowns: Record<string, { value: string; count: number }[]> }> {
    const res = await withEs(() =>
      this.es.search({
        index: this.profiles,
        query: this.query(definition),
        size: 0,
        track_total_hits: true,
        aggs: Object.fromEntries(by.map((b) => [b, { terms: { field: BREAKDOWNS[b], size, missing: '(none)' } }])),
      }),
    );
    const breakdowns: Record<string, { value: string; count: number }[]> = {};
    for (const b of by) {
      const agg = res.aggregations?.[b] as estypes.AggregationsStringTermsAggregate | undefined;
      const buckets = Array.isArray(agg?.buckets) ? agg.buckets : [];
      breakdowns[b] = buckets.map((x) => ({ value: String(x.key), count: x.doc_count }));
    }
    const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
    return { count: total, breakdowns };
  }

  /**
   * A definition being edited: count, sample, breakdowns and overlap with saved segments from one search, so they
   * agree with each other. The overlap's "only in the segment" part lies outside the query: a `global` aggregation.
   */
  async preview(
    definition: Definition,
    options: {
      sampleSize: number;
      by?: Breakdown[];
      breakdownSize: number;
      others?: { segmentId: string; version: number; definition: Definition }[];
    },
  ): Promise<PreviewAnswer> {
    const query = this.query(definition);
    const others = (options.others ?? []).map((o) => ({ ...o, query: this.query(o.definition) }));
    const aggs: Record<string, estypes.AggregationsAggregationContainer> = {};
    for (const b of options.by ?? []) aggs[`by_${b}`] = { terms: { field: BREAKDOWNS[b], size: options.breakdownSize, missing: '(none)' } };
    others.forEach((o, i) => {
      aggs[`both_${i}`] = { filter: o.query };
      aggs[`segment_${i}`] = { global: {}, aggs: { only: { filter: { bool: { filter: [o.query], must_not: [query] } } } } };
    });
    const res = await withEs(() =>
      this.es.search<PublicProfile>({
        index: this.profiles,
        query,
        size: options.sampleSize,
        track_total_hits: true,
        sort: [{ 'behavior.lastSeen': { order: 'desc', missing: '_last' } }, { userId: 'asc' }],
        _source: { excludes: [...HIDDEN_SOURCE_PATHS] },
        aggs,
      }),
    );
    const count = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
    const answer: PreviewAnswer = { count, sample: res.hits.hits.map((h) => h._source!) };
    if (options.by) {
      answer.breakdowns = {};
      for (const b of options.by) {
        const agg = res.aggregations?.[`by_${b}`] as estypes.AggregationsStringTermsAggregate | undefined;
        const buckets = Array.isArray(agg?.buckets) ? agg.buckets : [];
        answer.breakdowns[b] = buckets.map((x) => ({ value: String(x.key), count: x.doc_count }));
      }
    }
    if (options.others) {
      answer.overlaps = others.map((o, i) => {
        const both = (res.aggregations?.[`both_${i}`] as estypes.AggregationsFilterAggregate).doc_count;
        const only = (
          (res.aggregations?.[`segment_${i}`] as estypes.AggregationsGlobalAggregate).only as estypes.AggregationsFilterAggregate
        ).doc_count;
        return { segmentId: o.segmentId, version: o.version, both, onlyPreview: count - both, onlySegment: only };
      });
    }
    return answer;
  }

  /** |A∩B|, |A−B|, |B−A| in one request. */
  async overlap(a: Definition, b: Definition): Promise<{ both: number; onlyA: number; onlyB: number }> {
    const qa = this.query(a);
    const qb = this.query(b);
    const res = await withEs(() =>
      this.es.search({
        index: this.profiles,
        size: 0,
        aggs: {
          overlap: {
            filters: {
              filters: {
                both: { bool: { filter: [qa, qb] } },
                onlyA: { bool: { filter: [qa], must_not: [qb] } },
                onlyB: { bool: { filter: [qb], must_not: [qa] } },
              },
            },
          },
        },
      }),
    );
    const buckets = (res.aggregations?.overlap as estypes.AggregationsFiltersAggregate).buckets as Record<string, { doc_count: number }>;
    return { both: buckets.both!.doc_count, onlyA: buckets.onlyA!.doc_count, onlyB: buckets.onlyB!.doc_count };
  }

  /**
   * The active segments whose current definition the user's profile satisfies now (`segments`), and the
   * memberships materialized on the profile (`materialized`), which follow within a write or a reconciliation.
   */
  async segmentsOf(
    userId: string,
    segments: Segment[],
  ): Promise<{ segments: { segmentId: string; name: string; version: number }[]; materialized: string[] }> {
    const doc = await withEs(async () => {
      try {
        return (await this.es.get<ProfileDoc & { segments?: string[] }>({ index: this.profiles, id: userId }))._source!;
      } catch (error) {
        if (error instanceof errors.ResponseError && error.statusCode === 404) throw new NotFoundError(`no profile for user ${userId}`);
        throw error;
      }
    });
    const now = this.now();
    const live = segments
      .filter((s) => {
        const parsed = parseSegmentDefinition(s.definition);
        return parsed.ok && segmentPredicate(parsed.value, now)(doc);
      })
      .map((s) => ({ segmentId: s.segmentId, name: s.name, version: s.version }));
    return { segments: live, materialized: doc.segments ?? [] };
  }
}
