import fc from 'fast-check';
import { HEALTH_ROUTES, NO_ERASURES, addCounts, erasureSubject, redactUrl, type ApiRoute, type ErasureCounts } from '@portrait/shared';
import { guardedRoutes, loggedUrl } from '@portrait/runtime';

const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', '\uD800', '=', '&', '?', 'x'.repeat(100_000)),
);

describe('erasureSubject', () => {
  it('is 64 hex digits, the same for the same id, and never holds the id', () => {
    fc.assert(
      fc.property(hostile, hostile, (a, b) => {
        const subject = erasureSubject(a);
        expect(subject).toMatch(/^[0-9a-f]{64}$/);
        expect(erasureSubject(a)).toBe(subject);
        if (a !== b) expect(erasureSubject(b)).not.toBe(subject);
        if (a.length >= 4) expect(subject.includes(a)).toBe(false);
      }),
    );
  });
});

describe('addCounts', () => {
  it('adds every count and nothing else', () => {
    const count = fc.nat({ max: 1_000_000 });
    const counts = fc.record(
      Object.fromEntries(Object.keys(NO_ERASURES).map((k) => [k, count])) as Record<keyof ErasureCounts, typeof count>,
    );
    fc.assert(
      fc.property(counts, counts, (a, b) => {
        const sum = addCounts(a, b);
        expect(Object.keys(sum).sort()).toEqual(Object.keys(NO_ERASURES).sort());
        for (const key of Object.keys(NO_ERASURES) as (keyof ErasureCounts)[]) expect(sum[key]).toBe(a[key] + b[key]);
        expect(addCounts(a, NO_ERASURES)).toEqual(a);
      }),
    );
  });
});

describe('loggedUrl', () => {
  it('keeps the path and the parameter names, never a value', () => {
    expect(loggedUrl('/v1/profiles/search?q=ann%40example.com&region=Bavaria')).toBe('/v1/profiles/search?q=…&region=…');
    expect(loggedUrl('/v1/users/u-1/profile')).toBe('/v1/users/u-1/profile');
    expect(loggedUrl(undefined)).toBeUndefined();
    fc.assert(
      fc.property(
        fc.stringMatching(/^\/[a-z/]{0,20}$/),
        fc.array(fc.tuple(fc.stringMatching(/^[a-z_]{1,8}$/), hostile), { maxLength: 4 }),
        (path, params) => {
          // A lone surrogate cannot be percent-encoded: a client cannot send it either.
          fc.pre(params.every(([, v]) => v.isWellFormed()));
          const url = `${path}?${params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;
          const logged = loggedUrl(url)!;
          expect(logged.startsWith(`${path}?`)).toBe(true);
          for (const [, value] of params)
            if (encodeURIComponent(value).length >= 2) expect(logged.slice(path.length)).not.toContain(`=${encodeURIComponent(value)}`);
        },
      ),
    );
  });
});

describe('redactUrl', () => {
  it('hides a password and keeps the rest', () => {
    expect(redactUrl('http://elastic:s3cret@127.0.0.1:9201')).toBe('http://elastic:***@127.0.0.1:9201');
    expect(redactUrl('redis://:s3cret@127.0.0.1:6379/0')).toBe('redis://:***@127.0.0.1:6379/0');
    expect(redactUrl('http://127.0.0.1:9200')).toBe('http://127.0.0.1:9200');
    expect(redactUrl('not a url')).toBe('(unparseable URL)');
  });

  it('never shows the password, whatever it is', () => {
    fc.assert(
      fc.property(
        hostile.filter((p) => p.length >= 3),
        (password) => {
          const url = `http://elastic:${encodeURIComponent(password)}@127.0.0.1:9200`;
          const shown = redactUrl(url);
          expect(shown).not.toContain(encodeURIComponent(password));
        },
      ),
    );
  });
});

describe('guardedRoutes', () => {
  const route = (path: string, scope: ApiRoute['scope']): ApiRoute => ({
    method: 'get',
    path,
    tag: 't',
    scope,
    summary: '',
    responses: {},
    errors: [],
  });
  const routes = [...HEALTH_ROUTES, route('/v1/a', 'read'), route('/v1/b', 'admin')];
  const paths = (r: ApiRoute[]) => r.map((x) => `${x.path}:${x.scope}`).sort();

  it('guards the scoped routes with keys on, /metrics too when asked, and only /metrics with keys off', () => {
    expect(paths(guardedRoutes(routes, { scopedRoutes: true, metrics: false }))).toEqual(['/v1/a:read', '/v1/b:admin']);
    expect(paths(guardedRoutes(routes, { scopedRoutes: true, metrics: true }))).toEqual(['/metrics:metrics', '/v1/a:read', '/v1/b:admin']);
    expect(paths(guardedRoutes(routes, { scopedRoutes: false, metrics: true }))).toEqual(['/metrics:metrics']);
    expect(paths(guardedRoutes(routes, { scopedRoutes: false, metrics: false }))).toEqual([]);
    // Health, readiness and the API description are never guarded.
    for (const open of ['/healthz', '/readyz', '/openapi.json', '/docs'])
      expect(guardedRoutes(routes, { scopedRoutes: true, metrics: true }).some((r) => r.path === open)).toBe(false);
  });
});
