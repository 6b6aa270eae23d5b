import type { z } from 'zod';
import type { Issue } from './errors';

/** Turns zod issues into `{ path, reason }` pairs with dotted paths, prefixed by `base`. */
export function toIssues(error: z.ZodError, base: readonly (string | number)[] = []): Issue[] {
  return error.issues.map((issue) => ({
    path: formatPath([...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))]),
    reason: issue.message,
  }));
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.length === 0 ? '(root)' : path.join('.');
}
