import { useState } from 'preact/hooks';
import type { ChartConfiguration } from 'chart.js';
import { ApiError } from '../api';
import type { ClustersAnswer, RecommendationCtr, RfmAnswer, RulesAnswer } from '../api-types';
import { BarChart, ChartView, DoughnutChart, PALETTE } from '../charts';
import { ErrorNote, Loading, Panel, SelectField } from '../components';
import { useApi } from '../context';
import { count, money, num, pct, words } from '../format';
import { href, useLoad } from '../hooks';

const TIER_COLORS: Record<RfmAnswer['tiers'][number]['tier'], string> = { high: '#2f9e6e', medium: '#e0a739', low: '#9aa5b5' };

/** What the models found: behaviour clusters, the RFM grid, association rules, and how recommendations are clicked. */
export function Insights() {
  return (
    <div class="insights">
      <h2>Insights</h2>
      <Clusters />
      <Rfm />
      <div class="grid two">
        <Rules />
        <Ctr />
      </div>
    </div>
  );
}

/** A `404` here means the model is not trained yet: say how to train it rather than show an error. */
function NoModel({ error, kind }: { error: unknown; kind: string }) {
  if (error instanceof ApiError && error.status === 404)
    return (
      <p role="status">
        No active {kind} model yet. Train one: <code>npm run models -- train {kind} --promote</code>.
      </p>
    );
  return <ErrorNote error={error} />;
}

function Clusters() {
  const api = useApi();
  const clusters = useLoad((signal) => api.get<ClustersAnswer>('/v1/insights/clusters', undefined, signal), []);
  const data = clusters.data;
  const features = data ? spreadOrder(data) : [];
  const [axes, setAxes] = useState<{ x?: string; y?: string }>({});
  const featureNames = Object.fromEntries(features.map((f) => [f, words(f)]));
  const x = axes.x ?? features[0];
  const y = axes.y ?? features[1] ?? features[0];
  return (
    <Panel title="Clusters" id="clusters">
      {clusters.error !== undefined && <NoModel error={clusters.error} kind="clusters" />}
      {clusters.loading && !data && <Loading what="clusters" />}
      {data && x && y && (
        <>
          <p class="muted small">
            Model {data.model.modelId}: k = {data.model.k}, silhouette {num(data.model.silhouette)}. Each bubble is a cluster at its centre,
            in standard deviations from the average shopper; its area is its number of profiles.
          </p>
          <div class="row">
            <SelectField label="Across" value={x} options={featureNames} onChange={(v) => setAxes({ ...axes, x: v })} />
            <SelectField label="Up" value={y} options={featureNames} onChange={(v) => setAxes({ ...axes, y: v })} />
          </div>
          <div class="grid two">
            <ClusterMap data={data} x={x} y={y} />
            <table aria-label="Clusters">
              <thead>
                <tr>
                  <th scope="col">Cluster</th>
                  <th scope="col" class="num">
                    Profiles
                  </th>
                  <th scope="col" class="num">
                    Avg spend
                  </th>
                  <th scope="col">Stands out by</th>
                </tr>
              </thead>
              <tbody>
                {data.clusters.map((c, i) => (
                  <tr key={c.clusterId}>
                    <th scope="row">
                      <span class="swatch" aria-hidden="true" style={{ background: PALETTE[i % PALETTE.length] }} />
                      <a href={`${href('explorer')}?cluster=${c.clusterId}`}>{c.label}</a>
                    </th>
                    <td class="num">
                      {count(c.profiles)} <span class="muted small">({pct(c.share)} at training)</span>
                    </td>
                    <td class="num">{money(c.avgSpend)}</td>
                    <td>{c.traits.map((t) => t.phrase).join(', ') || 'typical'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Panel>
  );
}

/** Features by how far apart the cluster centres are on them: the first two separate the clusters best. */
function spreadOrder(data: ClustersAnswer): string[] {
  const spread = new Map<string, number[]>();
  for (const c of data.clusters) for (const s of c.summary) spread.set(s.feature, [...(spread.get(s.feature) ?? []), s.z]);
  return [...spread.entries()]
    .sort((a, b) => Math.max(...b[1]) - Math.min(...b[1]) - (Math.max(...a[1]) - Math.min(...a[1])))
    .map(([f]) => f);
}

function ClusterMap({ data, x, y }: { data: ClustersAnswer; x: string; y: string }) {
  const biggest = Math.max(...data.clusters.map((c) => c.profiles), 1);
  const at = (c: ClustersAnswer['clusters'][number], feature: string) => c.summary.find((s) => s.feature === feature)?.z ?? 0;
  const config: ChartConfiguration<'bubble'> = {
    type: 'bubble',
    data: {
      datasets: data.clusters.map((c, i) => ({
        label: `${c.label} (${count(c.profiles)})`,
        data: [{ x: at(c, x), y: at(c, y), r: 6 + 34 * Math.sqrt(c.profiles / biggest) }],
        backgroundColor: `${PALETTE[i % PALETTE.length]}b3`,
        borderColor: PALETTE[i % PALETTE.length],
      })),
    },
    options: {
      plugins: { legend: { position: 'bottom' } },
      scales: {
        x: { title: { display: true, text: `${words(x)} (z)` }, grace: '25%' },
        y: { title: { display: true, text: `${words(y)} (z)` }, grace: '25%' },
      },
    },
  };
  const summary = data.clusters
    .map((c) => `${c.label}: ${c.profiles} profiles, ${words(x)} ${num(at(c, x))}, ${words(y)} ${num(at(c, y))}`)
    .join('; ');
  return <ChartView config={config} label={`Cluster map: ${summary}`} height={320} />;
}

function Rfm() {
  const api = useApi();
  const rfm = useLoad((signal) => api.get<RfmAnswer>('/v1/insights/rfm', undefined, signal), []);
  const data = rfm.data;
  const cell = (r: number, f: number) => data?.grid.find((g) => g.r === r && g.f === f);
  const top = Math.max(...(data?.grid.map((g) => g.profiles) ?? [1]), 1);
  return (
    <Panel title="RFM" id="rfm">
      {rfm.error !== undefined && <NoModel error={rfm.error} kind="rfm" />}
      {rfm.loading && !data && <Loading what="the RFM grid" />}
      {data && (
        <div class="grid three">
          <figure>
            <figcaption>Profiles by recency (rows) and frequency (columns) score</figcaption>
            <table class="heat" aria-label="RFM grid">
              <thead>
                <tr>
                  <td />
                  {[1, 2, 3, 4, 5].map((f) => (
                    <th key={f} scope="col">
                      F{f}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {[5, 4, 3, 2, 1].map((r) => (
                  <tr key={r}>
                    <th scope="row">R{r}</th>
                    {[1, 2, 3, 4, 5].map((f) => {
                      const c = cell(r, f);
                      const share = (c?.profiles ?? 0) / top;
                      return (
                        <td
                          key={f}
                          title={c ? `R${r} F${f}: ${c.profiles} profiles, ${money(c.spend)} spent` : `R${r} F${f}: none`}
                          style={{ background: `rgba(42, 91, 215, ${0.08 + 0.82 * share})`, color: share > 0.5 ? '#fff' : undefined }}
                        >
                          {count(c?.profiles ?? 0)}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
            <p class="muted small">
              {count(data.profiles)} profiles scored by {data.model.modelId}.
            </p>
          </figure>
          <figure>
            <figcaption>Value tiers</figcaption>
            <DoughnutChart
              label="Profiles by value tier"
              bars={data.tiers.map((t) => ({ label: t.tier, value: t.profiles }))}
              colors={data.tiers.map((t) => TIER_COLORS[t.tier])}
            />
          </figure>
          <figure>
            <figcaption>RFM groups</figcaption>
            <BarChart
              label="Profiles by RFM group"
              color={PALETTE[2]}
              bars={data.groups.filter((g) => g.profiles > 0).map((g) => ({ label: words(g.group), value: g.profiles }))}
              format={count}
            />
          </figure>
        </div>
      )}
    </Panel>
  );
}

function Rules() {
  const api = useApi();
  const [level, setLevel] = useState<'item' | 'category'>('item');
  const rules = useLoad((signal) => api.get<RulesAnswer>('/v1/insights/rules', { level, limit: 12 }, signal), [level]);
  const data = rules.data;
  const topLift = Math.max(...(data?.rules.map((r) => r.lift) ?? [1]), 1);
  return (
    <Panel
      title="Association rules"
      id="rules"
      actions={<SelectField label="Level" inline value={level} options={{ item: 'items', category: 'categories' }} onChange={setLevel} />}
    >
      {rules.error !== undefined && <NoModel error={rules.error} kind="rules" />}
      {rules.loading && !data && <Loading what="rules" />}
      {data && data.rules.length === 0 && <p>No rule at this level.</p>}
      {data && data.rules.length > 0 && (
        <table aria-label="Top association rules">
          <thead>
            <tr>
              <th scope="col">Bought</th>
              <th scope="col">Also buys</th>
              <th scope="col" class="num">
                Confidence
              </th>
              <th scope="col">Lift</th>
              <th scope="col" class="num">
                Baskets
              </th>
            </tr>
          </thead>
          <tbody>
            {data.rules.map((r) => (
              <tr key={`${r.antecedent.join('+')}>${r.consequent.join('+')}`} title={r.text}>
                <td>{r.antecedent.join(' + ')}</td>
                <td>{r.consequent.join(' + ')}</td>
                <td class="num">{pct(r.confidence)}</td>
                <td class="bar-cell">
                  <span class="cell-bar" aria-hidden="true" style={{ width: `${(100 * r.lift) / topLift}%` }} />
                  {num(r.lift)}
                </td>
                <td class="num">{count(r.support)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && (
        <p class="muted small">
          {data.model.modelId}, mined from {count(data.model.baskets)} baskets.
        </p>
      )}
    </Panel>
  );
}

function Ctr() {
  const api = useApi();
  const [days, setDays] = useState(30);
  const ctr = useLoad((signal) => api.get<RecommendationCtr>('/v1/insights/recommendations', { days }, signal), [days]);
  const data = ctr.data;
  return (
    <Panel
      title="Recommendation click-through"
      id="ctr"
      actions={
        <SelectField
          label="Last"
          inline
          value={String(days) as '7' | '30' | '90'}
          options={[
            ['7', '7 days'],
            ['30', '30 days'],
            ['90', '90 days'],
          ]}
          onChange={(v) => setDays(Number(v))}
        />
      }
    >
      {ctr.error !== undefined && <ErrorNote error={ctr.error} />}
      {ctr.loading && !data && <Loading what="click-through" />}
      {data && data.impressions === 0 && <p>No recommendation was reported shown in these days (impression and click events).</p>}
      {data && data.impressions > 0 && (
        <>
          <p>
            {count(data.clicks)} clicks on {count(data.impressions)} items shown: <strong>{pct(data.ctr)}</strong> overall.
          </p>
          <BarChart
            label="Click-through rate by strategy"
            bars={data.strategies.map((s) => ({ label: s.strategy, value: s.ctr }))}
            color={PALETTE[4]}
            format={pct}
          />
          <table aria-label="Click-through by strategy">
            <thead>
              <tr>
                <th scope="col">Strategy</th>
                <th scope="col" class="num">
                  Shown
                </th>
                <th scope="col" class="num">
                  Clicked
                </th>
                <th scope="col" class="num">
                  CTR
                </th>
              </tr>
            </thead>
            <tbody>
              {data.strategies.map((s) => (
                <tr key={s.strategy}>
                  <th scope="row">{s.strategy}</th>
                  <td class="num">{count(s.impressions)}</td>
                  <td class="num">{count(s.clicks)}</td>
                  <td class="num">{pct(s.ctr)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Panel>
  );
}
