import type { Facet, SearchAnswer } from '../api-types';
import { Badge, ErrorNote, Loading } from '../components';
import { useApi } from '../context';
import { FACET_LABELS, count, money, when, words } from '../format';
import { href, useLoad } from '../hooks';
import { useClusterLabels } from './cluster-labels';

/** The facets the explorer shows, in this order; each is also a filter of the search. */
const FACETS: readonly Facet[] = [
  'tier',
  'lifecycle',
  'cluster',
  'rfmGroup',
  'segment',
  'region',
  'ageBand',
  'gender',
  'category',
  'riskLevel',
];

const SORTS: [string, string][] = [
  ['', 'Relevance, else last seen'],
  ['-lastSeen', 'Last seen, newest first'],
  ['-totalSpend', 'Total spend, highest first'],
  ['-orders', 'Orders, most first'],
  ['-purchasePropensity', 'Purchase propensity, highest first'],
  ['-churnPropensity', 'Churn propensity, highest first'],
  ['-risk', 'Risk score, highest first'],
  ['firstSeen', 'First seen, oldest first'],
];

const PAGE_SIZE = 20;

const go = (params: URLSearchParams): void => {
  window.location.hash = `#/explorer${params.size > 0 ? `?${params.toString()}` : ''}`;
};

/** Search over profiles: free text, a filter per facet value, sort and pages, all kept in the address. */
export function Explorer({ params }: { params: URLSearchParams }) {
  const api = useApi();
  const q = params.get('q') ?? '';
  const sort = params.get('sort') ?? '';
  const page = Math.max(1, Number(params.get('page') ?? 1) || 1);
  const filters = Object.fromEntries(FACETS.map((f) => [f, params.get(f)?.split(',').filter(Boolean) ?? []])) as Record<Facet, string[]>;
  const key = params.toString();
  const result = useLoad(
    (signal) => api.get<SearchAnswer>('/v1/profiles/search', { q, sort, page, size: PAGE_SIZE, facets: FACETS, ...filters }, signal),
    [key],
  );
  const clusterLabels = useClusterLabels();

  const update = (change: (next: URLSearchParams) => void): void => {
    const next = new URLSearchParams(params);
    change(next);
    next.delete('page');
    go(next);
  };
  const toggle = (facet: Facet, value: string): void =>
    update((next) => {
      const values = new Set(filters[facet]);
      if (values.has(value)) values.delete(value);
      else values.add(value);
      if (values.size === 0) next.delete(facet);
      else next.set(facet, [...values].join(','));
    });
  const active = FACETS.flatMap((f) => filters[f].map((v) => [f, v] as const));
  const data = result.data;
  const pages = data ? Math.max(1, Math.ceil(Math.min(data.total, 10_000) / PAGE_SIZE)) : 1;

  return (
    <div class="explorer">
      <h2>Profiles</h2>
      <form
        role="search"
        class="search-bar"
        onSubmit={(e) => {
          e.preventDefault();
          const text = String(new FormData(e.currentTarget).get('q') ?? '').trim();
          update((next) => (text ? next.set('q', text) : next.delete('q')));
        }}
      >
        <label for="profile-q" class="visually-hidden">
          Search profiles
        </label>
        {/* Left to the browser while typed; a new address (back, a link) shows its own text. */}
        <input
          key={q}
          id="profile-q"
          name="q"
          type="search"
          placeholder="Search user id, region, city, occupation, searches, categories, brands, cluster…"
          defaultValue={q}
        />
        <label for="profile-sort">Sort by</label>
        <select
          id="profile-sort"
          value={sort}
          onChange={(e) => update((next) => (e.currentTarget.value ? next.set('sort', e.currentTarget.value) : next.delete('sort')))}
        >
          {SORTS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
        <button type="submit">Search</button>
      </form>
      {active.length > 0 && (
        <ul class="chips" aria-label="Active filters">
          {active.map(([facet, value]) => (
            <li key={`${facet}=${value}`}>
              <button
                type="button"
                class="chip"
                onClick={() => toggle(facet, value)}
                aria-label={`Remove filter ${FACET_LABELS[facet]}: ${value}`}
              >
                {FACET_LABELS[facet]}: {facet === 'cluster' ? (clusterLabels.get(value) ?? value) : words(value)} ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div class="explorer-body">
        <aside aria-label="Facets" class="facets">
          {data &&
            FACETS.filter((f) => (data.facets[f]?.length ?? 0) > 0).map((facet) => {
              const buckets = data.facets[facet] ?? [];
              const top = Math.max(...buckets.map((b) => b.count), 1);
              return (
                <fieldset key={facet}>
                  <legend>{FACET_LABELS[facet]}</legend>
                  {buckets.map((b) => (
                    <label key={b.value} class="facet-value">
                      <input type="checkbox" checked={filters[facet].includes(b.value)} onChange={() => toggle(facet, b.value)} />
                      <span class="facet-name">
                        {facet === 'cluster' ? (clusterLabels.get(b.value) ?? `cluster ${b.value}`) : words(b.value)}
                      </span>
                      <span class="facet-count">{count(b.count)}</span>
                      <span class="facet-bar" aria-hidden="true" style={{ width: `${(100 * b.count) / top}%` }} />
                    </label>
                  ))}
                </fieldset>
              );
            })}
        </aside>
        <section aria-labelledby="results-title" class="results">
          <h3 id="results-title" aria-live="polite">
            {data ? `${count(data.total)} profiles` : 'Profiles'}
          </h3>
          {result.error !== undefined && <ErrorNote error={result.error} context="Search" />}
          {result.loading && !data && <Loading what="profiles" />}
          {data && (
            <>
              <table aria-label="Matching profiles">
                <thead>
                  <tr>
                    <th scope="col">User</th>
                    <th scope="col">Region</th>
                    <th scope="col">Lifecycle</th>
                    <th scope="col">Tier</th>
                    <th scope="col">Cluster</th>
                    <th scope="col" class="num">
                      Orders
                    </th>
                    <th scope="col" class="num">
                      Spend
                    </th>
                    <th scope="col">Last seen</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((p) => (
                    <tr key={p.userId}>
                      <th scope="row">
                        <a href={href('profiles', p.userId)}>{p.userId}</a>
                      </th>
                      <td>{p.attributes.region ?? '–'}</td>
                      <td>{words(p.lifecycle.stage)}</td>
                      <td>{p.value ? <Badge tone={p.value.tier}>{p.value.tier}</Badge> : '–'}</td>
                      <td>{p.cluster?.label ?? '–'}</td>
                      <td class="num">{count(p.purchases.orders)}</td>
                      <td class="num">{money(p.purchases.totalSpend, p.purchases.currency)}</td>
                      <td>{when(p.behavior.lastSeen)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <nav class="pager" aria-label="Pages">
                <button type="button" disabled={page <= 1} onClick={() => go(withPage(params, page - 1))}>
                  Previous
                </button>
                <span>
                  Page {page} of {count(pages)}
                </span>
                <button type="button" disabled={page >= pages} onClick={() => go(withPage(params, page + 1))}>
                  Next
                </button>
              </nav>
            </>
          )}
        </section>
      </div>
    </div>
  );
}

function withPage(params: URLSearchParams, page: number): URLSearchParams {
  const next = new URLSearchParams(params);
  if (page <= 1) next.delete('page');
  else next.set('page', String(page));
  return next;
}
