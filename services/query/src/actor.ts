import type { Request } from 'express';
import { ACTOR_HEADER, ActorSchema, ValidationError, toIssues, type Issue } from '@portrait/shared';

/**
 * Who is acting, for audit records: `x-portrait-actor`, which the API key check sets to the key's name (so
 * with keys required it is always the key).
 */
export function actorIssues(req: Request): { actor?: string; issues: Issue[] } {
  const parsed = ActorSchema.safeParse(req.headers[ACTOR_HEADER]);
  return parsed.success ? { actor: parsed.data, issues: [] } : { issues: toIssues(parsed.error, ['headers', ACTOR_HEADER]) };
}

export function requireActor(req: Request): string {
  const { actor, issues } = actorIssues(req);
  if (actor === undefined) throw new ValidationError(`the ${ACTOR_HEADER} header is required`, issues);
  return actor;
}

export const requestId = (req: Request): string | undefined => (req.id === undefined ? undefined : String(req.id));
