import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import { ApiError } from './api';

const TITLES: Record<number, string> = {
  0: 'The query service did not answer',
  400: 'Not valid',
  401: 'API key not accepted (401)',
  403: 'Not allowed with this key (403)',
  404: 'Not found',
  409: 'Not possible now',
  413: 'Too large',
  429: 'Too many requests',
  503: 'Unavailable for now',
};

/** What went wrong, as the API said it: title by status, its message, each issue with its path, and the scope a 403 needs. */
export function ErrorNote({ error, context }: { error: unknown; context?: string }) {
  if (!(error instanceof ApiError))
    return (
      <div role="alert" class="error">
        <strong>{context ? `${context}: ` : ''}Something went wrong</strong>
        <p>{String((error as Error)?.message ?? error)}</p>
      </div>
    );
  const title = TITLES[error.status] ?? `Error ${error.status}`;
  return (
    <div role="alert" class={`error status-${error.status}`}>
      <strong>
        {context ? `${context}: ` : ''}
        {title}
      </strong>{' '}
      <code>{error.code}</code>
      <p>{error.message}</p>
      {error.body.issues && error.body.issues.length > 0 && (
        <ul aria-label="Issues">
          {error.body.issues.map((issue) => (
            <li key={`${issue.path}:${issue.reason}`}>
              <code>{issue.path}</code>: {issue.reason}
            </li>
          ))}
        </ul>
      )}
      {error.status === 403 && error.body.scope && (
        <p>
          Ask an administrator for a key with scope <code>{error.body.scope}</code>, then change the key (top right).
        </p>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" class="loading">
      Loading {what}…
    </p>
  );
}

/** A titled part of a view; its heading names it for screen readers and tests (`region` role). */
export function Panel({
  title,
  id,
  children,
  actions,
}: {
  title: string;
  id: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <section class="panel" aria-labelledby={`${id}-title`}>
      <header>
        <h3 id={`${id}-title`}>{title}</h3>
        {actions}
      </header>
      {children}
    </section>
  );
}

/** Terms and their values. */
export function Facts({ items, label }: { items: [string, ComponentChildren][]; label: string }) {
  return (
    <dl class="facts" aria-label={label}>
      {items.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value ?? '–'}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Badge({ children, tone = 'plain', title }: { children: ComponentChildren; tone?: string; title?: string }) {
  return (
    <span class={`badge tone-${tone}`} title={title}>
      {children}
    </span>
  );
}

/** A progress bar with its figures in words. */
export function Progress({ label, value, max, text }: { label: string; value: number; max: number; text: string }) {
  return (
    <div class="progress">
      <progress aria-label={label} value={Math.min(value, max)} max={Math.max(max, 1)} />
      <span>{text}</span>
    </div>
  );
}

/**
 * A labelled form control: the label names the control by `for`, so its name is the label's text alone (a label
 * wrapped around a select would take the options' text into the name too).
 */
export function Field({
  label,
  inline,
  children,
}: {
  label: ComponentChildren;
  inline?: boolean;
  children: (id: string) => ComponentChildren;
}) {
  const id = useId();
  return (
    <span class={inline ? 'field inline' : 'field'}>
      <label for={id}>{label}</label>
      {children(id)}
    </span>
  );
}

/**
 * A labelled select over a fixed set of values, each with the text shown for it: a record, or pairs where the order
 * matters and the values look like numbers (a record puts those first, in numeric order).
 */
export function SelectField<T extends string>({
  label,
  inline,
  value,
  options,
  onChange,
}: {
  label: ComponentChildren;
  inline?: boolean;
  value: T;
  options: Readonly<Record<T, string>> | readonly (readonly [T, string])[];
  onChange: (value: T) => void;
}) {
  return (
    <Field label={label} inline={inline}>
      {(id) => (
        <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value as T)}>
          {(Array.isArray(options) ? options : (Object.entries(options) as [T, string][])).map(([v, text]) => (
            <option key={v} value={v}>
              {text}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
