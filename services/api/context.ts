/**
 * Who may see what: turns the caller's context and the `all_projects` /
 * `project_id` query parameters into the project scope domain functions take
 * (a project id, or null for every project).
 */
import type { Request } from 'express';
import type { RequestContext } from '../common/context.js';
import { DragonError } from '../common/errors.js';
import type { PolicyEnforcer } from './deps.js';

export const ALL_PROJECTS_RULE = 'dragon:all_projects';

export function contextOf(req: Request): RequestContext {
  if (!req.context) throw new DragonError(401, 'Authentication required.');
  return req.context;
}

/** The target of a rule for an object of `projectId` (oslo.policy's `%(project_id)s`). */
export function targetFor(projectId: string | undefined | null): Record<string, unknown> {
  return { project_id: projectId ?? null };
}

/**
 * Scope for looking up one object by id: callers allowed to see all projects
 * find any object; others only their project's, so another project's object
 * is "not found" exactly like a missing one.
 */
export function lookupScope(enforcer: PolicyEnforcer, ctx: RequestContext): string | null {
  if (enforcer.enforce(ALL_PROJECTS_RULE, targetFor(ctx.projectId), ctx)) return null;
  // A token without a project sees no project's objects.
  return ctx.projectId ?? '';
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export function boolParam(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  const s = String(value).toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw new DragonError(400, `Query parameter ${name} must be true or false.`);
}

/**
 * Scope for a list. `all_projects=true` needs the all-projects rule (403
 * otherwise); `project_id=` then narrows to one project.
 */
export function listScope(
  enforcer: PolicyEnforcer,
  ctx: RequestContext,
  query: Request['query'],
): { scope: string | null; projectFilter?: string } {
  const projectFilter = singleParam(query.project_id, 'project_id');
  if (boolParam(singleParam(query.all_projects, 'all_projects'), 'all_projects')) {
    enforcer.authorize(ALL_PROJECTS_RULE, targetFor(ctx.projectId), ctx);
    return { scope: null, projectFilter };
  }
  if (projectFilter !== undefined) {
    throw new DragonError(400, 'The project_id filter needs all_projects=true.');
  }
  if (!ctx.projectId)
    throw new DragonError(400, 'Listing needs a project-scoped token or all_projects=true.');
  return { scope: ctx.projectId };
}

/** A query parameter given at most once. */
export function singleParam(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    if (value.length === 1) return String(value[0]);
    throw new DragonError(400, `Query parameter ${name} may be given only once.`);
  }
  if (typeof value !== 'string') throw new DragonError(400, `Query parameter ${name} is malformed.`);
  return value;
}

/**
 * Loads the object named by the path's `:id` as the caller may see it, then
 * checks `rule` against the object's project: another project's object is
 * 404 (the load does not find it), a denied action on one's own is 403.
 */
export async function authorizedObject<T extends { project_id: string }>(
  enforcer: PolicyEnforcer,
  req: Request,
  rule: string,
  load: (id: string, scope: string | null) => Promise<T>,
): Promise<T> {
  const ctx = contextOf(req);
  const found = await load(String(req.params.id), lookupScope(enforcer, ctx));
  enforcer.authorize(rule, targetFor(found.project_id), ctx);
  return found;
}
