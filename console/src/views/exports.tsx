import { useState } from 'preact/hooks';
import type {
  ConsentChannel,
  ExportField,
  ExportListedAnswer,
  ExportRequestInput,
  ExportStartedAnswer,
  ExportStatus,
  Segment,
} from '../api-types';
import { ErrorNote, Panel, Progress } from '../components';
import { useApi } from '../context';
import { EXPORT_FIELD_GROUPS, count, when } from '../format';
import { useLoad, usePoll } from '../hooks';

const CONSENTS: Record<ConsentChannel, string> = {
  email: 'e-mail',
  sms: 'SMS',
  push: 'push',
  ads: 'ads',
  personalization: 'personalization',
};

const DEFAULT_FIELDS: ExportField[] = ['userId', 'attributes.region', 'value.tier', 'purchases.orders', 'purchases.totalSpend'];
const DONE = new Set(['completed', 'failed', 'cancelled', 'expired', 'deleted']);

/** An export job of a saved segment: what to write, its progress, and the file once it is there. */
export function ExportPanel({ segment }: { segment: Segment }) {
  const api = useApi();
  const [format, setFormat] = useState<'csv' | 'ndjson'>('csv');
  const [fields, setFields] = useState<ExportField[]>(DEFAULT_FIELDS);
  const [consent, setConsent] = useState<ConsentChannel[]>([]);
  const [hash, setHash] = useState(false);
  const [started, setStarted] = useState<ExportStartedAnswer | undefined>(undefined);
  const [status, setStatus] = useState<ExportStatus | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [downloaded, setDownloaded] = useState<string | undefined>(undefined);
  const history = useLoad(
    (signal) =>
      api.get<{ exports: ExportListedAnswer[] }>('/v1/exports', { segmentId: segment.segmentId, size: 5 }, signal).catch(() => undefined),
    [segment.segmentId, status?.status === 'completed'],
  );

  const toggle = <T,>(list: T[], value: T): T[] => (list.includes(value) ? list.filter((v) => v !== value) : [...list, value]);

  const start = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setStatus(undefined);
    setDownloaded(undefined);
    const request: ExportRequestInput = { format, fields, consent, hashIdentifiers: hash };
    try {
      setStarted(await api.post<ExportStartedAnswer>(`/v1/segments/${encodeURIComponent(segment.segmentId)}/exports`, request));
    } catch (err) {
      setStarted(undefined);
      setError(err);
    }
  };

  usePoll(
    async () => {
      if (!started) return false;
      const next = await api.get<ExportStatus>(started.statusUrl);
      setStatus(next);
      return !DONE.has(next.status);
    },
    1000,
    started !== undefined,
  );

  const download = async () => {
    if (!started) return;
    try {
      const file = await api.download(started.downloadUrl);
      const url = URL.createObjectURL(file.blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = file.fileName;
      document.body.append(link);
      link.click();
      link.remove();
      // The browser has taken the file once the click is handled.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setDownloaded(`${file.fileName}: ${count(file.rows)} rows`);
    } catch (err) {
      setError(err);
    }
  };

  const percent = status?.progress.percent;
  return (
    <Panel title="Export" id="export">
      <form onSubmit={start} aria-label="Export the segment">
        <fieldset class="choices">
          <legend>Format</legend>
          {(['csv', 'ndjson'] as const).map((f) => (
            <label key={f}>
              <input type="radio" name="export-format" value={f} checked={format === f} onChange={() => setFormat(f)} />
              {f.toUpperCase()}
            </label>
          ))}
        </fieldset>
        <details>
          <summary>Columns ({fields.length})</summary>
          {EXPORT_FIELD_GROUPS.map((group) => (
            <fieldset key={group.label} class="choices">
              <legend>{group.label}</legend>
              {group.fields.map((f) => (
                <label key={f}>
                  <input type="checkbox" checked={fields.includes(f)} onChange={() => setFields(toggle(fields, f))} />
                  <code>{f}</code>
                </label>
              ))}
            </fieldset>
          ))}
        </details>
        <fieldset class="choices">
          <legend>Only members who consented to</legend>
          {(Object.keys(CONSENTS) as ConsentChannel[]).map((c) => (
            <label key={c}>
              <input type="checkbox" checked={consent.includes(c)} onChange={() => setConsent(toggle(consent, c))} />
              {CONSENTS[c]}
            </label>
          ))}
        </fieldset>
        <label>
          <input type="checkbox" checked={hash} onChange={() => setHash(!hash)} /> Hash e-mails and phones (SHA-256, for ad platforms)
        </label>
        <div class="actions">
          <button type="submit" disabled={fields.length === 0 || (started !== undefined && !DONE.has(status?.status ?? 'queued'))}>
            Start export
          </button>
        </div>
      </form>
      {error !== undefined && <ErrorNote error={error} context="Export" />}
      {started && (
        <div class="export-status" aria-label="Export job">
          <Progress
            label="Export progress"
            value={status?.progress.rows ?? 0}
            max={status?.progress.total ?? status?.total ?? 1}
            text={`${status?.status ?? started.status}: ${count(status?.progress.rows ?? 0)} of ${count(status?.progress.total ?? status?.total)} rows${
              percent === undefined ? '' : ` (${Math.round(percent)} %)`
            }`}
          />
          <p role="status" aria-label="Export status">
            Export <code>{started.exportId}</code> {status?.status ?? started.status}
            {status?.error ? `: ${status.error}` : ''}
          </p>
          {status?.status === 'completed' && (
            <button type="button" onClick={download}>
              Download file ({count(status.rows)} rows)
            </button>
          )}
          {downloaded && <p class="ok">Downloaded {downloaded}.</p>}
        </div>
      )}
      {history.data && history.data.exports.length > 0 && (
        <table aria-label="Recent exports of this segment">
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">By</th>
              <th scope="col">Status</th>
              <th scope="col" class="num">
                Rows
              </th>
            </tr>
          </thead>
          <tbody>
            {history.data.exports.map((x) => (
              <tr key={x.exportId}>
                <td>{when(x.createdAt)}</td>
                <td>{x.actor}</td>
                <td>
                  {x.kind} {x.status}
                </td>
                <td class="num">{count(x.rows)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}
