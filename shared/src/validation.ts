import type { z } from 'zod';
import { ValidationError, type Issue } from './errors';

/**
 * Turns zod issues into `{ path, reason }` pairs with dotted paths, prefixed by `base`. An unknown key is
 * reported at the key itself (`events.3.ratingg`), one issue per key, so no schema has to do it by hand.
 */
export function toIssues(error: z.ZodError, base: readonly (string | number)[] = []): Issue[] {
  const issues: Issue[] = [];
  for (const issue of error.issues) {
    const at = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) issues.push({ path: formatPath([...at, key]), reason: issue.message });
    } else {
      issues.push({ path: formatPath(at), reason: issue.message });
    }
  }
  return issues;
}

/** The one way input is validated: `schema`'s output, or a ValidationError ("invalid <what>") naming each problem under `base`. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  base: readonly (string | number)[] = [],
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError(`invalid ${what}`, toIssues(parsed.error, base));
  return parsed.data;
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.length === 0 ? '(root)' : path.join('.');
}

/**
 * Strings holding a lone UTF-16 surrogate (JSON allows `"\\ud800"`), as issues. Elasticsearch indexes such a
 * string as U+FFFD, so it would match differently in the index and in the segment predicate: refused.
 */
export function malformedStrings(value: unknown, base: readonly (string | number)[] = [], limit = 5): Issue[] {
  if (allWellFormed(value)) return [];
  const issues: Issue[] = [];
  // An explicit stack, not recursion: a body nested thousands deep is refused, not a stack overflow.
  const stack: [unknown, (string | number)[]][] = [[value, [...base]]];
  while (stack.length > 0 && issues.length < limit) {
    const [node, path] = stack.pop()!;
    if (typeof node === 'string') {
      if (!node.isWellFormed()) issues.push({ path: formatPath(path), reason: 'contains a lone UTF-16 surrogate (not valid Unicode)' });
    } else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push([node[i], [...path, i]]);
    } else if (node !== null && typeof node === 'object') {
      const entries = Object.entries(node);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, el] = entries[i]!;
        if (!key.isWellFormed()) issues.push({ path: formatPath([...path, key]), reason: 'key contains a lone UTF-16 surrogate' });
        stack.push([el, [...path, key]]);
      }
    }
  }
  return issues.slice(0, limit);
}

/** The fast pass: no paths, no allocation but the stack; nearly every request stops here. */
function allWellFormed(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === 'string') {
      if (!node.isWellFormed()) return false;
    } else if (Array.isArray(node)) {
      for (const el of node) stack.push(el);
    } else if (node !== null && typeof node === 'object') {
      for (const key in node) {
        if (!Object.hasOwn(node, key)) continue;
        if (!key.isWellFormed()) return false;
        stack.push((node as Record<string, unknown>)[key]);
      }
    }
  }
  return true;
}
