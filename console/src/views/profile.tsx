import { useState } from 'preact/hooks';
import type { ChartConfiguration } from 'chart.js';
import type { BehaviourType, Profile, Recommendations, Strategy, UserSegmentsAnswer } from '../api-types';
import { BarChart, ChartView, PALETTE } from '../charts';
import { Badge, ErrorNote, Facts, Loading, Panel, SelectField } from '../components';
import { useApi } from '../context';
import { EVENT_LABELS, STRATEGY_LABELS, count, money, num, pct, when, words } from '../format';
import { href, useLoad } from '../hooks';

const WINDOWS = [
  ['d7', '7 days'],
  ['d30', '30 days'],
  ['d90', '90 days'],
  ['lifetime', 'Ever'],
] as const;

/** One shopper: who, what they did and like, what the models say, which segments hold them, and what to show them next. */
export function ProfileView({ userId }: { userId: string }) {
  const api = useApi();
  const path = `/v1/users/${encodeURIComponent(userId)}`;
  const profile = useLoad((signal) => api.get<Profile>(`${path}/profile`, undefined, signal), [userId]);
  const segments = useLoad((signal) => api.get<UserSegmentsAnswer>(`${path}/segments`, undefined, signal), [userId]);
  const p = profile.data;
  return (
    <article class="profile" aria-labelledby="profile-title">
      <p>
        <a href={href('explorer')}>← Profiles</a>
      </p>
      <h2 id="profile-title">
        Profile <code>{userId}</code>
      </h2>
      {profile.error !== undefined && <ErrorNote error={profile.error} context="Profile" />}
      {profile.loading && !p && <Loading what="the profile" />}
      {p && (
        <>
          <p class="badges" aria-label="Summary">
            {p.value && <Badge tone={p.value.tier}>{p.value.tier} value</Badge>}
            <Badge tone={p.lifecycle.stage}>{words(p.lifecycle.stage)}</Badge>
            {p.rfm && (
              <Badge title="RFM group and code (recency, frequency, monetary, 1–5)">{`${words(p.rfm.group)}${p.rfm.code ? ` · RFM ${p.rfm.code}` : ''}`}</Badge>
            )}
            {p.cluster && (
              <Badge title={`Cluster ${p.cluster.id}, ${num(p.cluster.distance)} standard deviations from its centre`}>
                {p.cluster.label}
              </Badge>
            )}
            {p.risk?.flagged && <Badge tone="risk">flagged: {p.risk.reasons.map(words).join(', ')}</Badge>}
          </p>
          <div class="grid">
            <Panel title="Attributes" id="attributes">
              <Facts
                label="Attributes"
                items={[
                  ['Gender', p.attributes.gender],
                  ['Age', p.attributes.age === undefined ? p.attributes.ageBand : `${p.attributes.age} (${p.attributes.ageBand ?? '–'})`],
                  ['Occupation', p.attributes.occupation],
                  ['Region', [p.attributes.region, p.attributes.city].filter(Boolean).join(', ') || undefined],
                  ['Signed up', p.attributes.signupDate ? when(p.attributes.signupDate) : undefined],
                  [
                    'Consents',
                    Object.entries(p.attributes.consents)
                      .filter(([, given]) => given)
                      .map(([channel]) => channel)
                      .join(', ') || 'none',
                  ],
                ]}
              />
            </Panel>
            <Panel title="Purchases" id="purchases">
              <Facts
                label="Purchases"
                items={[
                  ['Orders', count(p.purchases.orders)],
                  ['Total spend', money(p.purchases.totalSpend, p.purchases.currency)],
                  ['Average order', money(p.purchases.avgOrderValue, p.purchases.currency)],
                  [
                    'Spend 30 / 90 days',
                    `${money(p.purchases.spend30d, p.purchases.currency)} / ${money(p.purchases.spend90d, p.purchases.currency)}`,
                  ],
                  [
                    'Last purchase',
                    p.purchases.lastPurchaseAt
                      ? `${when(p.purchases.lastPurchaseAt)} (${p.purchases.daysSinceLastPurchase ?? '–'} days ago)`
                      : 'never',
                  ],
                  ['Orders a month', num(p.purchases.ordersPerMonth)],
                  ['Payment', p.purchases.paymentMethods.join(', ') || undefined],
                  ['Price band', p.purchases.preferredPriceBand],
                ]}
              />
            </Panel>
            <Panel title="Scores" id="scores">
              <Scores profile={p} />
            </Panel>
            <Panel title="Segments" id="profile-segments">
              {segments.error !== undefined && <ErrorNote error={segments.error} context="Segments" />}
              {segments.data && (
                <Facts
                  label="Segments"
                  items={[
                    [
                      'Satisfies now',
                      segments.data.segments.length === 0 ? (
                        'none'
                      ) : (
                        <ul class="inline" aria-label="Satisfies now">
                          {segments.data.segments.map((s) => (
                            <li key={s.segmentId}>
                              <a href={href('segments', s.segmentId)}>{s.name}</a>
                            </li>
                          ))}
                        </ul>
                      ),
                    ],
                    ['Materialized', segments.data.materialized.join(', ') || 'none'],
                  ]}
                />
              )}
            </Panel>
          </div>
          <Panel title="Behaviour" id="behaviour">
            <Behaviour profile={p} />
          </Panel>
          <div class="grid two">
            <Panel title="Category interests" id="category-interests">
              {p.interests.categories.length === 0 ? (
                <p>No category interest yet.</p>
              ) : (
                <BarChart
                  label="Category interest (decayed score)"
                  bars={p.interests.categories.slice(0, 10).map((i) => ({ label: i.name, value: i.score }))}
                  format={num}
                />
              )}
            </Panel>
            <Panel title="Brand interests" id="brand-interests">
              {p.interests.brands.length === 0 ? (
                <p>No brand interest yet.</p>
              ) : (
                <BarChart
                  label="Brand interest (decayed score)"
                  color={PALETTE[1]}
                  bars={p.interests.brands.slice(0, 10).map((i) => ({ label: i.name, value: i.score }))}
                  format={num}
                />
              )}
            </Panel>
          </div>
          <RecommendationsPanel userId={userId} />
        </>
      )}
    </article>
  );
}

function Scores({ profile: p }: { profile: Profile }) {
  // Green where the number is good news: a likely purchase, an unlikely churn.
  const meter = (label: string, value: number | undefined, good: 'high' | 'low') =>
    value === undefined ? (
      '–'
    ) : (
      <span class="meter">
        <meter aria-label={label} min={0} max={1} low={0.25} high={0.5} optimum={good === 'high' ? 1 : 0} value={value} /> {pct(value)}
      </span>
    );
  return (
    <Facts
      label="Scores"
      items={[
        ['Value tier', p.value?.tier],
        ['RFM', p.rfm ? `R ${p.rfm.r ?? '–'} · F ${p.rfm.f ?? '–'} · M ${p.rfm.m ?? '–'} (${words(p.rfm.group)})` : undefined],
        ['Cluster', p.cluster ? `${p.cluster.id}: ${p.cluster.label}` : undefined],
        ['Purchase in 30 days', meter('Purchase propensity', p.propensity?.purchase, 'high')],
        ['Churn in 30 days', meter('Churn propensity', p.propensity?.churn, 'low')],
        ['Risk', p.risk ? `${p.risk.level} (${num(p.risk.score)}), anomaly ${num(p.risk.anomaly)}` : undefined],
        ['Risk signals', p.risk ? p.risk.reasons.map(words).join(', ') || 'none' : undefined],
        [
          'Models',
          Object.entries(p.models ?? {})
            .map(([kind, version]) => `${kind} v${version}`)
            .join(', ') || undefined,
        ],
      ]}
    />
  );
}

function Behaviour({ profile: p }: { profile: Profile }) {
  const types = (Object.keys(EVENT_LABELS) as BehaviourType[]).filter((t) => p.behavior.counts[t]);
  const config: ChartConfiguration<'bar'> = {
    type: 'bar',
    data: {
      labels: types.map((t) => EVENT_LABELS[t]),
      datasets: WINDOWS.slice(0, 3).map(([w, label], i) => ({
        label,
        data: types.map((t) => p.behavior.counts[t]?.[w] ?? 0),
        backgroundColor: PALETTE[i],
      })),
    },
    options: { plugins: { legend: { position: 'bottom' } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  };
  return (
    <div class="grid two">
      <ChartView config={config} label={`Events in the last 7, 30 and 90 days by type`} />
      <div>
        <table aria-label="Events by window">
          <thead>
            <tr>
              <th scope="col">Event</th>
              {WINDOWS.map(([w, label]) => (
                <th key={w} scope="col" class="num">
                  {label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {types.map((t) => (
              <tr key={t}>
                <th scope="row">{EVENT_LABELS[t]}</th>
                {WINDOWS.map(([w]) => (
                  <td key={w} class="num">
                    {count(p.behavior.counts[t]?.[w])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        <Facts
          label="Activity"
          items={[
            ['First seen', when(p.behavior.firstSeen)],
            [
              'Last seen',
              `${when(p.behavior.lastSeen)}${p.lifecycle.daysSinceLastSeen === undefined ? '' : ` (${p.lifecycle.daysSinceLastSeen} days ago)`}`,
            ],
            ['Active days (30)', count(p.behavior.activeDays30)],
            ['Recent searches', p.behavior.recentSearches.join(', ') || 'none'],
            ['Reviews', p.reviews.count === 0 ? 'none' : `${p.reviews.count}, average ${num(p.reviews.avgRating)}`],
          ]}
        />
      </div>
    </div>
  );
}

function RecommendationsPanel({ userId }: { userId: string }) {
  const api = useApi();
  const [strategy, setStrategy] = useState<Strategy>('hybrid');
  const recs = useLoad(
    (signal) => api.get<Recommendations>(`/v1/users/${encodeURIComponent(userId)}/recommendations`, { k: 8, strategy }, signal),
    [userId, strategy],
  );
  return (
    <Panel
      title="Recommendations"
      id="recommendations"
      actions={<SelectField label="Strategy" inline value={strategy} options={STRATEGY_LABELS} onChange={setStrategy} />}
    >
      {recs.error !== undefined && <ErrorNote error={recs.error} context="Recommendations" />}
      {recs.loading && !recs.data && <Loading what="recommendations" />}
      {recs.data && (
        <>
          {recs.data.fallback === 'cold_start' && <p>No history yet: popular items instead.</p>}
          {recs.data.items.length === 0 ? (
            <p>Nothing to recommend with this strategy.</p>
          ) : (
            <ol class="recommendations" aria-label="Recommended items">
              {recs.data.items.map((item) => (
                <li key={item.itemId}>
                  <div class="rec-title">
                    <span class="rec-position">{item.position}.</span> <strong>{item.title}</strong>{' '}
                    <span class="muted">{item.itemId}</span>
                  </div>
                  <div class="muted">
                    {item.category.join(' › ')}
                    {item.brand ? ` · ${item.brand}` : ''} · {money(item.price)}
                  </div>
                  <div class="reason">{item.reason.text}</div>
                  <div class="muted small">
                    {item.strategies.join(', ')} · score {num(item.score)}
                  </div>
                </li>
              ))}
            </ol>
          )}
          <p class="muted small">
            Request {recs.data.requestId}; models{' '}
            {Object.entries(recs.data.models)
              .map(([k, v]) => `${k} v${v}`)
              .join(', ') || 'none (popularity)'}
          </p>
        </>
      )}
    </Panel>
  );
}
