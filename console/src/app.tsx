import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api, ApiError } from './api';
import { ErrorNote } from './components';
import { ApiContext } from './context';
import { href, useRoute } from './hooks';
import { Explorer } from './views/explorer';
import { ProfileView } from './views/profile';
import { SegmentBuilder } from './views/segments';
import { Insights } from './views/insights';

/** The tab's API key: asked for once, kept while the tab is open (sessionStorage), never in the address or a cookie. */
const KEY_ITEM = 'portrait.apiKey';

type Access =
  { state: 'checking' } | { state: 'needs-key'; rejected?: ApiError; checking?: boolean } | { state: 'ready'; warning?: ApiError };

const VIEWS = [
  { id: 'explorer', title: 'Profiles' },
  { id: 'segments', title: 'Segments' },
  { id: 'insights', title: 'Insights' },
] as const;

export function App() {
  const [key, setKey] = useState<string | undefined>(() => sessionStorage.getItem(KEY_ITEM) ?? undefined);
  const [access, setAccess] = useState<Access>({ state: 'checking' });
  // The key every request sends, changed at once (a state update would reach the client only after a render).
  const keyRef = useRef(key);
  // Only the answer about the latest key counts.
  const attempt = useRef(0);
  const api = useMemo(
    () =>
      new Api(
        () => keyRef.current,
        // A refusal of the key in use (revoked, expired) asks for another; one of a key already replaced is old news.
        (rejected, used) => {
          if (used !== keyRef.current) return;
          sessionStorage.removeItem(KEY_ITEM);
          setAccess({ state: 'needs-key', rejected });
        },
      ),
    [],
  );

  /**
   * One cheap read tells whether a key works: `401` asks for another, `403` (a key without `read`) is let in, and each
   * view then says what the key lacks. With no key it tells whether keys are asked for at all.
   */
  const check = useCallback(
    (candidate: string | undefined) => {
      const n = ++attempt.current;
      keyRef.current = candidate;
      setKey(candidate);
      setAccess((a) => (a.state === 'needs-key' ? { ...a, checking: true } : { state: 'checking' }));
      const settle = (next: Access) => {
        if (n !== attempt.current) return;
        if (next.state === 'ready' && candidate) sessionStorage.setItem(KEY_ITEM, candidate);
        else sessionStorage.removeItem(KEY_ITEM);
        setAccess(next);
      };
      api.get('/v1/profiles/search', { size: 0 }).then(
        () => settle({ state: 'ready' }),
        (error: unknown) =>
          settle(
            error instanceof ApiError && error.status === 401
              ? { state: 'needs-key', rejected: candidate ? error : undefined }
              : { state: 'ready', warning: error instanceof ApiError ? error : undefined },
          ),
      );
    },
    [api],
  );
  useEffect(() => check(keyRef.current), [check]);

  const forget = () => {
    attempt.current++;
    sessionStorage.removeItem(KEY_ITEM);
    keyRef.current = undefined;
    setKey(undefined);
    setAccess({ state: 'needs-key' });
  };

  return (
    <ApiContext.Provider value={api}>
      <Shell keyText={access.state === 'ready' ? key : undefined} onChangeKey={forget} showNav={access.state === 'ready'}>
        {access.state === 'checking' && (
          <p role="status" class="loading">
            Connecting…
          </p>
        )}
        {access.state === 'needs-key' && (
          <KeyForm rejected={access.checking ? undefined : access.rejected} checking={access.checking} onKey={check} />
        )}
        {access.state === 'ready' && (
          <>
            {access.warning && <ErrorNote error={access.warning} context="Checking the key" />}
            <Views />
          </>
        )}
      </Shell>
    </ApiContext.Provider>
  );
}

function Shell({
  keyText,
  onChangeKey,
  showNav,
  children,
}: {
  keyText?: string;
  onChangeKey: () => void;
  showNav: boolean;
  children: ComponentChildren;
}) {
  const route = useRoute();
  const current = route.path[0] === 'profiles' || route.path.length === 0 ? 'explorer' : route.path[0];
  return (
    <>
      <header class="top">
        <h1>
          <a href={href('explorer')}>Portrait</a> <span>console</span>
        </h1>
        {showNav && (
          <nav aria-label="Views">
            {VIEWS.map((v) => (
              <a key={v.id} href={href(v.id)} aria-current={current === v.id ? 'page' : undefined}>
                {v.title}
              </a>
            ))}
          </nav>
        )}
        {keyText && (
          <div class="key">
            <span title="The API key of this tab">{keyText.slice(0, 12)}…</span>
            <button type="button" class="link" onClick={onChangeKey}>
              Change key
            </button>
          </div>
        )}
      </header>
      <main>{children}</main>
    </>
  );
}

function KeyForm({ rejected, checking, onKey }: { rejected?: ApiError; checking?: boolean; onKey: (key: string) => void }) {
  const [text, setText] = useState('');
  return (
    <form
      class="key-form panel"
      aria-labelledby="key-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (text.trim() !== '') onKey(text.trim());
      }}
    >
      <h2 id="key-title">Sign in with an API key</h2>
      <p>
        Every call this page makes carries the key, and can do what its scopes allow: <code>read</code> for profiles and insights,{' '}
        <code>segments</code> to build segments, <code>export</code> for audiences (or <code>admin</code>). <code>npm start</code> prints an
        admin key and keeps it in <code>.run/admin-key</code>; <code>npm run keys -- create</code> makes others. The key stays in this tab
        only.
      </p>
      {rejected && <ErrorNote error={rejected} />}
      <label for="api-key">API key</label>
      <input
        id="api-key"
        type="password"
        autocomplete="off"
        spellcheck={false}
        placeholder="ptk_…"
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        required
      />
      <button type="submit" disabled={checking}>
        Use this key
      </button>
      {checking && <p role="status">Checking the key…</p>}
    </form>
  );
}

function Views() {
  const route = useRoute();
  const [view = 'explorer', id] = route.path;
  switch (view) {
    case 'profiles':
      return id ? <ProfileView userId={id} /> : <Explorer params={route.params} />;
    case 'segments':
      return <SegmentBuilder segmentId={id} />;
    case 'insights':
      return <Insights />;
    default:
      return <Explorer params={route.params} />;
  }
}
