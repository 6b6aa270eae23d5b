import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ChartConfiguration } from 'chart.js';
import { ApiError } from '../api';
import type {
  BehaviourType,
  Breakdown,
  MembershipStatus,
  PreviewAnswer,
  SavedSegment,
  Segment,
  SegmentField,
  SegmentListAnswer,
} from '../api-types';
import { BarChart, ChartView, PALETTE } from '../charts';
import { ErrorNote, Field, Loading, Panel, Progress, SelectField } from '../components';
import { useApi } from '../context';
import { BREAKDOWN_LABELS, EVENT_LABELS, count, words } from '../format';
import { href, useDebounced, useLoad, usePoll } from '../hooks';
import { ExportPanel } from './exports';
import { useClusterLabels } from './cluster-labels';

type Json = Record<string, unknown>;

const EXAMPLES: { name: string; definition: Json }[] = [
  {
    name: 'Repeat buyers who spent 150 or more',
    definition: { and: [{ field: 'purchases.totalSpend', op: 'range', gte: 150 }, { event: { type: 'purchase', atLeast: 2 } }] },
  },
  {
    name: 'Lapsed buyers (nothing bought in 30 days)',
    definition: { and: [{ event: { type: 'purchase' } }, { field: 'purchases.lastPurchaseAt', op: 'range', olderThan: { days: 30 } }] },
  },
  {
    name: 'Window shoppers (5+ views in 30 days, never bought)',
    definition: { and: [{ event: { type: 'page_view', atLeast: 5, inLastDays: 30 } }, { not: { event: { type: 'purchase' } } }] },
  },
  {
    name: 'High-value shoppers likely to churn',
    definition: {
      and: [
        { field: 'value.tier', op: 'eq', value: 'high' },
        { field: 'propensity.churn', op: 'range', gte: 0.5 },
      ],
    },
  },
];

/** Fields offered while typing a field condition; the API knows every other and answers a typo with "did you mean". */
const FIELD_HINTS = [
  'attributes.region',
  'attributes.city',
  'attributes.gender',
  'attributes.ageBand',
  'attributes.age',
  'attributes.consents.email',
  'purchases.orders',
  'purchases.totalSpend',
  'purchases.avgOrderValue',
  'purchases.lastPurchaseAt',
  'purchases.preferredPaymentMethod',
  'behavior.lastSeen',
  'behavior.eventCount',
  'interests.topCategories',
  'interests.topBrands',
  'lifecycle.stage',
  'value.tier',
  'rfm.group',
  'cluster.id',
  'propensity.purchase',
  'propensity.churn',
  'risk.level',
] as const satisfies readonly SegmentField[];

const DEFAULT_BREAKDOWNS: Breakdown[] = ['tier', 'lifecycle', 'region', 'ageBand'];
const PREVIEW_DEBOUNCE_MS = 400;

const pretty = (value: unknown): string => JSON.stringify(value, null, 2);

function parseDefinition(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

/**
 * Write a segment definition and watch it: the live count, breakdowns and overlap with saved segments follow the text
 * as it is typed (one preview request per pause). Save it, watch its membership being materialized, export it.
 */
export function SegmentBuilder({ segmentId }: { segmentId?: string }) {
  const api = useApi();
  const [view, setView] = useState<LiveView>({ by: DEFAULT_BREAKDOWNS, compare: [] });
  const list = useLoad((signal) => api.get<SegmentListAnswer>('/v1/segments', undefined, signal), [segmentId]);
  const saved = useLoad(
    (signal) => (segmentId ? api.get<Segment>(`/v1/segments/${encodeURIComponent(segmentId)}`, undefined, signal) : undefined),
    [segmentId],
  );
  return (
    <div class="segments">
      <h2>Segments</h2>
      <div class="segments-body">
        <nav aria-label="Saved segments" class="segment-list">
          <a href={href('segments')} aria-current={segmentId === undefined ? 'page' : undefined}>
            + New segment
          </a>
          {list.error !== undefined && <ErrorNote error={list.error} context="Saved segments" />}
          <ul>
            {list.data?.segments.map((s) => (
              <li key={s.segmentId}>
                <a href={href('segments', s.segmentId)} aria-current={s.segmentId === segmentId ? 'page' : undefined}>
                  {s.name}
                </a>
                <span class="muted small"> v{s.version}</span>
              </li>
            ))}
          </ul>
        </nav>
        {segmentId && saved.error !== undefined && <ErrorNote error={saved.error} context={`Segment ${segmentId}`} />}
        {segmentId && saved.loading && !saved.data && <Loading what="the segment" />}
        {(!segmentId || saved.data?.segmentId === segmentId) && (
          <Editor
            key={segmentId ?? 'new'}
            view={view}
            onView={setView}
            existing={segmentId ? saved.data : undefined}
            others={(list.data?.segments ?? []).filter((s) => s.segmentId !== segmentId)}
            onSaved={(s) => {
              list.reload();
              if (s.segmentId !== segmentId) window.location.hash = href('segments', s.segmentId);
              else saved.reload();
            }}
          />
        )}
      </div>
    </div>
  );
}

/** What the live panel shows: kept across segments, and from a new segment to the same one saved. */
interface LiveView {
  by: Breakdown[];
  compare: string[];
}

function Editor({
  existing,
  others,
  onSaved,
  view,
  onView,
}: {
  existing?: Segment;
  others: Segment[];
  onSaved: (s: SavedSegment) => void;
  view: LiveView;
  onView: (view: LiveView) => void;
}) {
  const api = useApi();
  const [id, setId] = useState(existing?.segmentId ?? '');
  const [name, setName] = useState(existing?.name ?? '');
  const [description, setDescription] = useState(existing?.description ?? '');
  const [text, setText] = useState(pretty(existing?.definition ?? EXAMPLES[0]!.definition));
  const by = view.by;
  // A segment is not compared with itself.
  const compare = view.compare.filter((other) => other !== existing?.segmentId);
  const setBy = (next: Breakdown[]) => onView({ ...view, by: next });
  const setCompare = (next: string[]) => onView({ ...view, compare: next });
  const [saving, setSaving] = useState<{ error?: unknown; saved?: SavedSegment; busy: boolean }>({ busy: false });
  const [backfillJob, setBackfillJob] = useState<string | undefined>(undefined);

  const parsed = useMemo(() => parseDefinition(text), [text]);
  const wanted = parsed.ok
    ? JSON.stringify({ definition: parsed.value, sampleSize: 5, by, overlapWith: compare.length ? compare : undefined })
    : '';
  const request = useDebounced(wanted, PREVIEW_DEBOUNCE_MS);
  // Each answer (or refusal) carries the request it answers, so the panel can tell whether it is the text as it is now.
  const preview = useLoad(
    (signal) =>
      request
        ? api.post<PreviewAnswer>('/v1/segments/preview', JSON.parse(request), signal).then(
            (answer) => ({ request, answer, error: undefined }),
            (error: unknown) => {
              if (error instanceof ApiError) return { request, answer: undefined, error };
              throw error;
            },
          )
        : undefined,
    [request],
  );
  const shown = preview.data;
  const fresh = wanted !== '' && shown?.request === wanted;
  const answer = shown?.answer;
  const refusal = shown?.error ?? preview.error;

  const save = async (e: Event) => {
    e.preventDefault();
    if (!parsed.ok) return;
    setSaving({ busy: true });
    try {
      const body = { name, ...(description ? { description } : {}), definition: parsed.value };
      const result = existing
        ? await api.put<SavedSegment>(`/v1/segments/${encodeURIComponent(existing.segmentId)}`, body)
        : await api.post<SavedSegment>('/v1/segments', { ...(id ? { segmentId: id } : {}), ...body });
      setSaving({ busy: false, saved: result });
      setBackfillJob(result.membership.backfillJobId);
      onSaved(result);
    } catch (error) {
      setSaving({ busy: false, error });
    }
  };

  return (
    <div class="editor">
      <form class="panel definition-form" aria-labelledby="editor-title" onSubmit={save}>
        <h3 id="editor-title">{existing ? `Edit “${existing.name}” (version ${existing.version})` : 'New segment'}</h3>
        <div class="row">
          <Field label="Segment id">
            {(fid) => (
              <input
                id={fid}
                value={id}
                onInput={(e) => setId(e.currentTarget.value)}
                disabled={existing !== undefined}
                placeholder="lapsed-vip (optional)"
                pattern="[A-Za-z0-9._:@-]+"
              />
            )}
          </Field>
          <Field label="Name">
            {(fid) => <input id={fid} value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={200} />}
          </Field>
        </div>
        <Field label="Description">
          {(fid) => <input id={fid} value={description} onInput={(e) => setDescription(e.currentTarget.value)} maxLength={2000} />}
        </Field>
        <label for="definition">Definition (JSON)</label>
        <textarea
          id="definition"
          class="code"
          rows={16}
          spellcheck={false}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          aria-invalid={!parsed.ok || (refusal instanceof ApiError && refusal.status === 400)}
          aria-describedby="definition-help"
        />
        <p id="definition-help" class="muted small">
          <code>{'{"and": [...]}'}</code>, <code>{'{"or": [...]}'}</code>, <code>{'{"not": {...}}'}</code>; field conditions{' '}
          <code>{'{"field", "op": "eq|in|prefix|exists|range", ...}'}</code>; <code>{'{"event": {"type", "atLeast", "inLastDays"}}'}</code>;{' '}
          <code>{'{"interest": {"kind", "name", "above"}}'}</code>. The full grammar is in <a href="/docs">the API docs</a>.
        </p>
        {!parsed.ok && (
          <p role="alert" class="error">
            Not JSON yet: {parsed.message}
          </p>
        )}
        <div class="row">
          <Field label="Start from">
            {(fid) => (
              <select
                id={fid}
                value=""
                onChange={(e) => {
                  const example = EXAMPLES[Number(e.currentTarget.value)];
                  if (example) {
                    setText(pretty(example.definition));
                    if (!name) setName(example.name);
                  }
                }}
              >
                <option value="">an example…</option>
                {EXAMPLES.map((x, i) => (
                  <option key={x.name} value={i}>
                    {x.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <ConditionHelper
          disabled={!parsed.ok}
          onAdd={(condition) => parsed.ok && setText(pretty(withCondition(parsed.value, condition)))}
        />
        <div class="actions">
          <button type="submit" disabled={!parsed.ok || saving.busy || name.trim() === ''}>
            {existing ? 'Save new version' : 'Save segment'}
          </button>
          {saving.busy && <span role="status">Saving…</span>}
        </div>
        {saving.error !== undefined && <ErrorNote error={saving.error} context="Saving" />}
        {saving.saved && (
          <p role="status" class="ok">
            Saved {saving.saved.segmentId} version {saving.saved.version}.
          </p>
        )}
      </form>
      <div class="live">
        <Panel title="Live" id="live">
          <div aria-live="polite">
            {refusal !== undefined && <ErrorNote error={refusal} context="Definition" />}
            <p class="live-count">
              <output aria-label="Live count" data-fresh={fresh && answer ? 'true' : 'false'}>
                {answer ? count(answer.count) : '–'}
              </output>{' '}
              profiles {!fresh && parsed.ok ? <span class="muted small">(updating…)</span> : null}
            </p>
            {answer && answer.sample.length > 0 && (
              <p class="muted small">
                e.g.{' '}
                {answer.sample.map((p, i) => (
                  <span key={p.userId}>
                    {i > 0 && ', '}
                    <a href={href('profiles', p.userId)}>{p.userId}</a>
                  </span>
                ))}
              </p>
            )}
          </div>
          <fieldset class="choices">
            <legend>Break down by</legend>
            {(Object.keys(BREAKDOWN_LABELS) as Breakdown[]).map((b) => (
              <label key={b}>
                <input
                  type="checkbox"
                  checked={by.includes(b)}
                  onChange={() => setBy(by.includes(b) ? by.filter((x) => x !== b) : [...by, b])}
                />
                {BREAKDOWN_LABELS[b]}
              </label>
            ))}
          </fieldset>
        </Panel>
        {answer?.breakdowns && <Breakdowns breakdowns={answer.breakdowns} />}
        <Panel title="Overlap" id="overlap">
          {others.length === 0 ? (
            <p>No other saved segment to compare with.</p>
          ) : (
            <fieldset class="choices">
              <legend>Compare with</legend>
              {others.map((s) => (
                <label key={s.segmentId}>
                  <input
                    type="checkbox"
                    checked={compare.includes(s.segmentId)}
                    disabled={!compare.includes(s.segmentId) && compare.length >= 3}
                    onChange={() =>
                      setCompare(compare.includes(s.segmentId) ? compare.filter((x) => x !== s.segmentId) : [...compare, s.segmentId])
                    }
                  />
                  {s.name}
                </label>
              ))}
            </fieldset>
          )}
          {answer?.overlaps && answer.overlaps.length > 0 && <Overlaps answer={answer} others={others} />}
        </Panel>
        {existing && <Membership segment={existing} jobId={backfillJob} />}
        {existing && <ExportPanel segment={existing} />}
      </div>
    </div>
  );
}

/** `condition` added to the definition's top-level `and` (made one when it is something else). */
function withCondition(definition: unknown, condition: Json): unknown {
  if (definition && typeof definition === 'object' && Array.isArray((definition as Json).and))
    return { ...(definition as Json), and: [...((definition as Json).and as unknown[]), condition] };
  return { and: [definition, condition] };
}

type HelperKind = 'event' | 'field' | 'interest';
type FieldOp = 'eq' | 'in' | 'gte' | 'lte' | 'exists' | 'prefix' | 'last' | 'olderThan';

const FIELD_OPS: Record<FieldOp, string> = {
  eq: 'equals',
  in: 'is one of (comma-separated)',
  gte: 'is at least',
  lte: 'is at most',
  exists: 'is set',
  prefix: 'starts with',
  last: 'within the last N days',
  olderThan: 'more than N days ago',
};

/** "12" is a number, "true" a boolean, anything else text: what a typed value most likely means. */
function typed(text: string): string | number | boolean {
  const t = text.trim();
  if (t === 'true' || t === 'false') return t === 'true';
  return t !== '' && Number.isFinite(Number(t)) ? Number(t) : t;
}

function fieldCondition(field: string, op: FieldOp, value: string): Json {
  switch (op) {
    case 'eq':
    case 'prefix':
      return { field, op, value: op === 'eq' ? typed(value) : value };
    case 'in':
      return { field, op, values: value.split(',').map(typed) };
    case 'gte':
    case 'lte':
      return { field, op: 'range', [op]: typed(value) };
    case 'exists':
      return { field, op };
    case 'last':
    case 'olderThan':
      return { field, op: 'range', [op]: { days: Number(value) } };
  }
}

/** A few form fields that write a condition for those who would rather not type JSON. */
function ConditionHelper({ disabled, onAdd }: { disabled: boolean; onAdd: (condition: Json) => void }) {
  const [kind, setKind] = useState<HelperKind>('event');
  const [eventType, setEventType] = useState<BehaviourType>('purchase');
  const [atLeast, setAtLeast] = useState('1');
  const [days, setDays] = useState('');
  const [field, setField] = useState<string>('value.tier');
  const [op, setOp] = useState<FieldOp>('eq');
  const [value, setValue] = useState('high');
  const [interestKind, setInterestKind] = useState<'category' | 'brand'>('category');
  const [interestName, setInterestName] = useState('');
  const [above, setAbove] = useState('');

  const condition = (): Json => {
    if (kind === 'event')
      return {
        event: {
          type: eventType,
          ...(atLeast && atLeast !== '1' ? { atLeast: Number(atLeast) } : {}),
          ...(days ? { inLastDays: Number(days) } : {}),
        },
      };
    if (kind === 'interest') return { interest: { kind: interestKind, name: interestName, ...(above ? { above: Number(above) } : {}) } };
    return fieldCondition(field, op, value);
  };

  return (
    <fieldset class="helper">
      <legend>Add a condition</legend>
      <div class="row">
        <SelectField
          label="Kind"
          value={kind}
          options={{ event: 'did an event', field: 'a profile field', interest: 'an interest' }}
          onChange={setKind}
        />
        {kind === 'event' && (
          <>
            <SelectField label="Event" value={eventType} options={EVENT_LABELS} onChange={setEventType} />
            <Field label="At least">
              {(id) => (
                <input id={id} type="number" min={0} value={atLeast} onInput={(e) => setAtLeast(e.currentTarget.value)} class="short" />
              )}
            </Field>
            <SelectField
              label="In the last"
              value={days as '' | '7' | '30' | '90'}
              options={[
                ['', 'ever'],
                ['7', '7 days'],
                ['30', '30 days'],
                ['90', '90 days'],
              ]}
              onChange={setDays}
            />
          </>
        )}
        {kind === 'field' && (
          <>
            <Field label="Field">
              {(id) => (
                <>
                  <input id={id} list="segment-fields" value={field} onInput={(e) => setField(e.currentTarget.value)} />
                  <datalist id="segment-fields">
                    {FIELD_HINTS.map((f) => (
                      <option key={f} value={f} />
                    ))}
                  </datalist>
                </>
              )}
            </Field>
            <Field label="Test">
              {(id) => (
                <select id={id} value={op} onChange={(e) => setOp(e.currentTarget.value as FieldOp)}>
                  {(Object.keys(FIELD_OPS) as FieldOp[]).map((o) => (
                    <option key={o} value={o}>
                      {FIELD_OPS[o]}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            {op !== 'exists' && (
              <Field label="Value">{(id) => <input id={id} value={value} onInput={(e) => setValue(e.currentTarget.value)} />}</Field>
            )}
          </>
        )}
        {kind === 'interest' && (
          <>
            <Field label="In">
              {(id) => (
                <select id={id} value={interestKind} onChange={(e) => setInterestKind(e.currentTarget.value as 'category' | 'brand')}>
                  <option value="category">category</option>
                  <option value="brand">brand</option>
                </select>
              )}
            </Field>
            <Field label="Interest name">
              {(id) => <input id={id} value={interestName} onInput={(e) => setInterestName(e.currentTarget.value)} />}
            </Field>
            <Field label="Score above">
              {(id) => (
                <input
                  id={id}
                  type="number"
                  step="0.1"
                  min={0}
                  value={above}
                  onInput={(e) => setAbove(e.currentTarget.value)}
                  class="short"
                />
              )}
            </Field>
          </>
        )}
        <button type="button" disabled={disabled} onClick={() => onAdd(condition())}>
          Add condition
        </button>
      </div>
    </fieldset>
  );
}

function Breakdowns({ breakdowns }: { breakdowns: Record<string, { value: string; count: number }[]> }) {
  const clusterLabels = useClusterLabels();
  const entries = Object.entries(breakdowns).filter(([, buckets]) => buckets.length > 0);
  return (
    <Panel title="Breakdowns" id="breakdowns">
      {entries.length === 0 && <p>No members to break down.</p>}
      <div class="grid two">
        {entries.map(([name, buckets], i) => (
          <figure key={name}>
            <figcaption>{BREAKDOWN_LABELS[name as Breakdown] ?? name}</figcaption>
            <BarChart
              label={`Members by ${BREAKDOWN_LABELS[name as Breakdown] ?? name}`}
              color={PALETTE[i % PALETTE.length]}
              bars={buckets.map((b) => ({
                label: name === 'cluster' ? (clusterLabels.get(b.value) ?? b.value) : words(b.value),
                value: b.count,
              }))}
              format={count}
            />
          </figure>
        ))}
      </div>
    </Panel>
  );
}

function Overlaps({ answer, others }: { answer: PreviewAnswer; others: Segment[] }) {
  const names = new Map(others.map((s) => [s.segmentId, s.name]));
  const overlaps = answer.overlaps ?? [];
  const config: ChartConfiguration<'bar'> = {
    type: 'bar',
    data: {
      labels: overlaps.map((o) => names.get(o.segmentId) ?? o.segmentId),
      datasets: [
        { label: 'Only this definition', data: overlaps.map((o) => o.onlyPreview), backgroundColor: PALETTE[0] },
        { label: 'Both', data: overlaps.map((o) => o.both), backgroundColor: PALETTE[3] },
        { label: 'Only the saved segment', data: overlaps.map((o) => o.onlySegment), backgroundColor: PALETTE[1] },
      ],
    },
    options: {
      indexAxis: 'y',
      scales: { x: { stacked: true, beginAtZero: true }, y: { stacked: true } },
      plugins: { legend: { position: 'bottom' } },
    },
  };
  const summary = overlaps
    .map((o) => `${names.get(o.segmentId) ?? o.segmentId}: both ${o.both}, only this ${o.onlyPreview}, only it ${o.onlySegment}`)
    .join('; ');
  return (
    <>
      <ChartView config={config} label={`Overlap with saved segments: ${summary}`} height={60 + 40 * overlaps.length} />
      <table aria-label="Overlap">
        <thead>
          <tr>
            <th scope="col">Segment</th>
            <th scope="col" class="num">
              Both
            </th>
            <th scope="col" class="num">
              Only this
            </th>
            <th scope="col" class="num">
              Only it
            </th>
          </tr>
        </thead>
        <tbody>
          {overlaps.map((o) => (
            <tr key={o.segmentId}>
              <th scope="row">{names.get(o.segmentId) ?? o.segmentId}</th>
              <td class="num">{count(o.both)}</td>
              <td class="num">{count(o.onlyPreview)}</td>
              <td class="num">{count(o.onlySegment)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

const FINISHED = new Set(['completed', 'failed', 'unknown']);

/** Profiles tagged with the segment, and the backfill that tags them, followed until it is done. */
function Membership({ segment, jobId }: { segment: Segment; jobId?: string }) {
  const api = useApi();
  const [status, setStatus] = useState<MembershipStatus | undefined>(undefined);
  const [live, setLive] = useState<number | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [watching, setWatching] = useState(true);
  const path = `/v1/segments/${encodeURIComponent(segment.segmentId)}`;
  useEffect(() => setWatching(true), [jobId, segment.version]);
  usePoll(
    async () => {
      try {
        const [membership, counted] = await Promise.all([
          api.get<MembershipStatus>(`${path}/membership`),
          api.get<{ count: number }>(`${path}/count`),
        ]);
        setStatus(membership);
        setLive(counted.count);
        setError(undefined);
        const more = !(membership.backfill && FINISHED.has(membership.backfill.state) && (!jobId || membership.backfill.jobId === jobId));
        if (!more) setWatching(false);
        return more;
      } catch (e) {
        setError(e);
        setWatching(false);
        return false;
      }
    },
    1000,
    watching,
  );
  const progress = status?.backfill?.progress as { passes?: number; scanned?: number; pending?: number } | undefined;
  return (
    <Panel title="Membership" id="membership">
      {error !== undefined && <ErrorNote error={error} context="Membership" />}
      {!status && !error && <Loading what="membership" />}
      {status && (
        <>
          <Progress
            label="Materialized members"
            value={status.materialized}
            max={live ?? status.materialized}
            text={`${count(status.materialized)} of ${count(live)} members tagged on their profiles`}
          />
          <p class="small" role="status" aria-label="Backfill">
            Backfill {status.backfill ? <strong>{status.backfill.state}</strong> : 'not started'}
            {progress?.passes !== undefined && ` · pass ${progress.passes}`}
            {progress?.scanned !== undefined && ` · ${count(progress.scanned)} profiles fixed`}
            {progress?.pending !== undefined && ` · ${count(progress.pending)} to check`}
            {status.backfill?.finishedAt && ` · finished ${new Date(status.backfill.finishedAt).toLocaleTimeString()}`}
            {status.backfill?.failedReason && ` · ${status.backfill.failedReason}`}
          </p>
          {!watching && (
            <button type="button" class="link" onClick={() => setWatching(true)}>
              Refresh
            </button>
          )}
        </>
      )}
    </Panel>
  );
}
