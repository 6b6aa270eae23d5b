import type { Express } from 'express';
import type { OpenApiDocument } from '@portrait/shared';

/** One operation: an upper-case method and an Express path (`/v1/users/:id/profile`). */
export interface RouteKey {
  method: string;
  path: string;
}

/** What `listRoutes()` of Express 5's router (`router` 2.3) gives per layer. */
interface ListedRoute {
  path: string | RegExp;
  methods: string[] | undefined;
  router: Listable | undefined;
}
interface Listable {
  listRoutes?: () => ListedRoute[];
}

/**
 * Every route registered on `app`, walking the routers it mounts. `HEAD`, which Express answers for every
 * `GET`, is left out unless registered on its own; `ALL` stands for an `.all()` route.
 */
export function registeredRoutes(app: Express): RouteKey[] {
  const routes: RouteKey[] = [];
  const walk = (router: Listable, prefix: string): void => {
    if (typeof router.listRoutes !== 'function')
      throw new Error('the Express router cannot list its routes (router 2.3 or later is needed)');
    for (const listed of router.listRoutes()) {
      const path = joinPath(prefix, String(listed.path));
      if (listed.router) {
        walk(listed.router, path);
        continue;
      }
      const methods = listed.methods ?? [];
      for (const method of methods) {
        if (method === 'HEAD' && methods.includes('GET')) continue;
        routes.push({ method: method === '*' ? 'ALL' : method, path });
      }
    }
  };
  walk(app.router as Listable, '');
  return routes;
}

function joinPath(prefix: string, path: string): string {
  if (path === '/' && prefix !== '') return prefix;
  return `${prefix.replace(/\/$/, '')}${path}`;
}

/** The operations of an OpenAPI document, with Express paths. */
export function documentedRoutes(document: OpenApiDocument): RouteKey[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.keys(item as object)
      .filter((key) => HTTP_METHODS.has(key))
      .map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{([^}]+)\}/g, ':$1') })),
  );
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** Registered but not described, and described but not registered, as `METHOD /path`. */
export function routeMismatch(registered: RouteKey[], documented: RouteKey[]): { undocumented: string[]; unregistered: string[] } {
  const key = (r: RouteKey) => `${r.method} ${r.path}`;
  const reg = new Set(registered.map(key));
  const doc = new Set(documented.map(key));
  return { undocumented: [...reg].filter((k) => !doc.has(k)), unregistered: [...doc].filter((k) => !reg.has(k)) };
}

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Escaped text with `code` spans, as the descriptions write them. */
const prose = (text: string | undefined): string => (text ? escape(text).replace(/`([^`]+)`/g, '<code>$1</code>') : '');

const anchor = (ref: string): string => {
  const [, kind, name] = /^#\/components\/(\w+)\/(.+)$/.exec(ref) ?? [];
  return kind && name ? `${kind}-${name}` : '';
};

/** JSON, indented, escaped, with every `$ref` a link to what it names on the page. */
function jsonHtml(value: unknown, indent = ''): string {
  if (value === null || typeof value !== 'object') return escape(JSON.stringify(value) ?? 'undefined');
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + jsonHtml(v, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  const lines = entries.map(([k, v]) => {
    const shown =
      k === '$ref' && typeof v === 'string' && anchor(v)
        ? `<a href="#${escape(anchor(v))}">${escape(JSON.stringify(v))}</a>`
        : jsonHtml(v, inner);
    return `${inner}${escape(JSON.stringify(k))}: ${shown}`;
  });
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

/** A schema: a link when it only names a component, else its JSON. */
function pre(value: unknown): string {
  const ref = (value as { $ref?: unknown } | null)?.$ref;
  if (typeof ref === 'string' && Object.keys(value as object).length === 1 && anchor(ref)) {
    return `<p><a href="#${escape(anchor(ref))}">${escape(ref.split('/').pop()!)}</a></p>`;
  }
  return `<pre>${jsonHtml(value)}</pre>`;
}

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: unknown }[];
  requestBody?: { content?: Record<string, Media> };
  responses?: Record<string, { $ref?: string; description?: string; headers?: Record<string, unknown>; content?: Record<string, Media> }>;
}
interface Media {
  schema?: unknown;
  examples?: Record<string, { summary?: string; value?: unknown }>;
}

function mediaHtml(content: Record<string, Media> | undefined): string {
  return Object.entries(content ?? {})
    .map(([type, media]) => {
      const examples = Object.entries(media.examples ?? {})
        .map(([name, ex]) => `<details><summary>Example: ${prose(ex.summary ?? name)}</summary>${examplePre(ex.value)}</details>`)
        .join('');
      return `<div class="media"><code>${escape(type)}</code>${pre(media.schema ?? {})}${examples}</div>`;
    })
    .join('');
}

const examplePre = (value: unknown): string =>
  typeof value === 'string' ? `<pre>${escape(value)}</pre>` : `<pre>${escape(JSON.stringify(value, null, 2))}</pre>`;

function operationHtml(method: string, path: string, op: Operation, errors: Record<string, { description?: string }>): string {
  const id = `op-${op.operationId ?? `${method}-${path}`}`;
  const params = op.parameters ?? [];
  const paramRows = params
    .map(
      (p) =>
        `<tr><td><code>${escape(p.name)}</code></td><td>${escape(p.in)}</td><td>${p.required ? 'yes' : 'no'}</td>` +
        `<td>${pre(p.schema ?? {})}</td><td>${prose(p.description)}</td></tr>`,
    )
    .join('');
  const responses = Object.entries(op.responses ?? {})
    .map(([status, r]) => {
      if (r.$ref) {
        const name = r.$ref.split('/').pop()!;
        return `<li><b>${escape(status)}</b> ${prose(errors[name]?.description)} (<a href="#${escape(anchor(r.$ref))}">${escape(name)}</a>)</li>`;
      }
      const headers = r.headers ? `<p>Headers:</p>${pre(r.headers)}` : '';
      return `<li><b>${escape(status)}</b> ${prose(r.description)}${headers}${mediaHtml(r.content)}</li>`;
    })
    .join('');
  return (
    `<section class="op" id="${escape(id)}"><h3><span class="method ${escape(method)}">${escape(method.toUpperCase())}</span> <code>${escape(path)}</code></h3>` +
    `<p>${prose(op.summary)}</p>${op.description ? `<p>${prose(op.description)}</p>` : ''}` +
    (params.length > 0
      ? `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th><th>description</th></tr>${paramRows}</table>`
      : '') +
    (op.requestBody ? `<h4>Request body</h4>${mediaHtml(op.requestBody.content)}` : '') +
    `<h4>Responses</h4><ul>${responses}</ul></section>`
  );
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;max-width:70rem;margin:0 auto;padding:1rem 2rem;color:#222}
code,pre{font:13px/1.35 ui-monospace,monospace}pre{background:#f5f5f5;padding:.5rem;overflow:auto;max-height:30rem;margin:.3rem 0}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:.3rem;vertical-align:top;text-align:left}
.op{border-top:1px solid #ccc;margin-top:1.5rem}.method{display:inline-block;min-width:4rem;font-weight:bold}
.get{color:#2a6}.post{color:#26a}.put{color:#a62}.delete{color:#a22}nav li{margin:.1rem 0}details{margin:.2rem 0}`;

/**
 * The document as one self-contained HTML page: no script, no asset from anywhere, so it works offline and
 * under a strict content security policy. Operations by tag, then the error answers and the schemas.
 */
export function renderDocsPage(document: OpenApiDocument): string {
  const ops: { tag: string; method: string; path: string; op: Operation }[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const [method, op] of Object.entries(item as Record<string, Operation>)) {
      if (HTTP_METHODS.has(method)) ops.push({ tag: op.tags?.[0] ?? 'other', method, path, op });
    }
  }
  const tags = [...new Set(ops.map((o) => o.tag))];
  const nav = tags
    .map(
      (tag) =>
        `<li>${escape(tag)}<ul>${ops
          .filter((o) => o.tag === tag)
          .map(
            (o) =>
              `<li><a href="#${escape(`op-${o.op.operationId ?? ''}`)}">${escape(o.method.toUpperCase())} ${escape(o.path)}</a> ${prose(o.op.summary)}</li>`,
          )
          .join('')}</ul></li>`,
    )
    .join('');
  const components = document.components ?? {};
  const errors = (components.responses ?? {}) as Record<
    string,
    { description?: string; headers?: unknown; content?: Record<string, Media> }
  >;
  const body = tags
    .map(
      (tag) =>
        `<h2>${escape(tag)}</h2>${ops
          .filter((o) => o.tag === tag)
          .map((o) => operationHtml(o.method, o.path, o.op, errors))
          .join('')}`,
    )
    .join('');
  const errorResponses = Object.entries(errors)
    .map(
      ([name, r]) =>
        `<section id="responses-${escape(name)}"><h3>${escape(name)}</h3><p>${prose(r.description)}</p>` +
        `${r.headers ? `<p>Headers:</p>${pre(r.headers)}` : ''}${mediaHtml(r.content)}</section>`,
    )
    .join('');
  const schemas = Object.entries(components.schemas ?? {})
    .map(([name, schema]) => `<section id="schemas-${escape(name)}"><h3>${escape(name)}</h3>${pre(schema)}</section>`)
    .join('');
  const info = document.info;
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escape(info.title)}</title><style>${STYLE}</style></head><body>` +
    `<h1>${escape(info.title)}</h1>${(info.description ?? '')
      .split(/\n\n+/)
      .map((para) => `<p>${prose(para)}</p>`)
      .join('')}<p>OpenAPI ${escape(document.openapi)}: <a href="openapi.json">openapi.json</a></p>` +
    `<nav><ul>${nav}</ul></nav>${body}<h2>Error answers</h2>${errorResponses}<h2>Schemas</h2>${schemas}</body></html>`
  );
}
