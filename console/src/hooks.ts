import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Loaded<T> {
  data?: T;
  error?: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` when `deps` change, and answers its latest result: a call overtaken by a newer one is aborted and its
 * answer dropped, so a slow answer never replaces a newer one. `load` returning undefined loads nothing.
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T> | undefined, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: false });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    const pending = load(controller.signal);
    if (!pending) {
      setState({ loading: false });
      return undefined;
    }
    setState((s) => ({ ...s, loading: true }));
    pending.then(
      (data) => {
        if (!controller.signal.aborted) setState({ data, loading: false });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ error, loading: false });
      },
    );
    return () => controller.abort();
    // The caller's deps decide when to load again.
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}

/** `value`, once it has stayed the same for `ms`: what to send while someone types. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/**
 * Calls `step` every `ms` while `active`, one call at a time (the next starts `ms` after the last answered), until it
 * returns false. Progress of a job: its state, then nothing more once it is done.
 */
export function usePoll(step: () => Promise<boolean>, ms: number, active: boolean): void {
  const latest = useRef(step);
  latest.current = step;
  useEffect(() => {
    if (!active) return undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async (): Promise<void> => {
      const more = await latest.current().catch(() => false);
      if (more && !stopped) timer = setTimeout(() => void tick(), ms);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [active, ms]);
}

export interface Route {
  /** `#/profiles/alice` -> ['profiles', 'alice'] */
  path: string[];
  params: URLSearchParams;
}

function currentRoute(): Route {
  const [pathText = '', query = ''] = window.location.hash.replace(/^#\/?/, '').split('?');
  return { path: pathText.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(query) };
}

/** The view the address names (`#/explorer`, `#/profiles/<id>`, `#/segments/<id>`, `#/insights`), followed as it changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const changed = () => setRoute(currentRoute());
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

/** `#/profiles/alice`, with each part encoded. */
export function href(...parts: (string | number)[]): string {
  return `#/${parts.map((p) => encodeURIComponent(String(p))).join('/')}`;
}
