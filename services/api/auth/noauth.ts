/**
 * auth_strategy = noauth: the caller says who it is in X-Auth-Token as
 * `<user>:<project>[:role,role]` (Nova's noauth2 convention). For
 * development and the all-in-one demo only: anyone can be anyone.
 */
import type { RequestContext } from '../../common/context.js';

export const NOAUTH_DEFAULT_ROLES = ['member', 'reader'];

/** Keystone's default implications, so `admin` behaves as it would with real tokens. */
const IMPLIES: Record<string, string[]> = { admin: ['member'], member: ['reader'] };

export function expandImpliedRoles(roles: readonly string[]): string[] {
  const out = new Set<string>();
  const todo = [...roles];
  while (todo.length) {
    const r = todo.pop()!;
    if (out.has(r)) continue;
    out.add(r);
    todo.push(...(IMPLIES[r] ?? []));
  }
  return [...out];
}

/** The identity part of a context from a noauth token, or undefined when it is not `user[:project[:roles]]`. */
export function parseNoauthToken(
  token: string,
): Pick<RequestContext, 'userId' | 'projectId' | 'roles' | 'isAdminProject'> | undefined {
  const [userId, project, roleList] = token.split(':');
  if (!userId || !/^[\w.@-]+$/.test(userId)) return undefined;
  const projectId = project || userId;
  if (!/^[\w.@-]+$/.test(projectId)) return undefined;
  const given = roleList
    ? roleList
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean)
    : NOAUTH_DEFAULT_ROLES;
  const roles = expandImpliedRoles(given);
  return { userId, projectId, roles, isAdminProject: roles.includes('admin') };
}
