import type { ErrorBody } from './api-types';

/** An answer of 400 or more, with what the API said: its stable code, message, issues and the scope a 403 names. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
    this.name = 'ApiError';
  }

  get code(): string {
    return this.body.error;
  }
}

export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

/** `?a=1&b=x,y`: lists comma-joined, empty values left out. */
export function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === '') continue;
    const text = Array.isArray(value) ? value.join(',') : String(value);
    if (text !== '') params.set(name, text);
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

export interface Download {
  blob: Blob;
  fileName: string;
  rows?: number;
}

/**
 * The query service, called from the page it served (same origin) with the API key of this tab. A `401` also goes to
 * `onUnauthorized` with the key it was sent with, so the page can ask for another key wherever it happened (and
 * ignore a refusal of a key it has already replaced).
 */
export class Api {
  constructor(
    private readonly key: () => string | undefined,
    private readonly onUnauthorized: (error: ApiError, key: string | undefined) => void = () => undefined,
  ) {}

  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.json<T>('GET', `${path}${queryString(query)}`, undefined, signal);
  }

  post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return this.json<T>('POST', path, body, signal);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('PUT', path, body);
  }

  /** A file answer (an export download), read whole: export files are what a browser tab can hold. */
  async download(path: string): Promise<Download> {
    const res = await this.send('GET', path);
    const disposition = res.headers.get('content-disposition') ?? '';
    const rows = res.headers.get('x-portrait-row-count');
    return {
      blob: await res.blob(),
      fileName: /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'export',
      rows: rows === null ? undefined : Number(rows),
    };
  }

  private async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.send(method, path, body, signal);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  private async send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const key = this.key();
    if (key) headers.authorization = `Bearer ${key}`;
    // Without keys (AUTH_REQUIRED=false) exports need an actor; with a key, the key's name is the actor whatever this says.
    headers['x-portrait-actor'] = 'console';
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ApiError(0, { error: 'network', message: `the query service did not answer (${(error as Error).message})` });
    }
    if (res.status < 400) return res;
    const error = new ApiError(res.status, await errorBody(res));
    if (res.status === 401) this.onUnauthorized(error, key);
    throw error;
  }
}

async function errorBody(res: Response): Promise<ErrorBody> {
  const text = await res.text();
  try {
    const parsed = JSON.parse(text) as Partial<ErrorBody>;
    if (typeof parsed.error === 'string' && typeof parsed.message === 'string') return parsed as ErrorBody;
  } catch {
    // not JSON: a proxy in between, say
  }
  return { error: `http_${res.status}`, message: text.slice(0, 300) || res.statusText };
}
