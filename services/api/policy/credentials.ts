/**
 * The credentials dict policy rules see, built from the request context with
 * the keys of oslo.context's `to_policy_values()`, so check strings from other
 * OpenStack services (`project_id:%(project_id)s`, `system_scope:all`) work.
 */
import type { RequestContext } from '../../common/context.js';
import type { Credentials } from './checks.js';

export function credentialsFromContext(ctx: RequestContext): Credentials {
  const creds: Record<string, unknown> = {
    user_id: ctx.userId,
    roles: [...ctx.roles],
    is_admin_project: ctx.isAdminProject,
    // The Keystone admin role; the enforcer refines this with the context_is_admin rule.
    is_admin: ctx.roles.some((r) => r.toLowerCase() === 'admin'),
  };
  // Unset values are left out rather than set to None: a generic check on a
  // missing credential then never matches (a system token has no project_id).
  const optional: Record<string, string | undefined> = {
    user_domain_id: ctx.userDomainId,
    project_id: ctx.projectId,
    project_domain_id: ctx.projectDomainId,
    domain_id: ctx.domainId,
    system_scope: ctx.systemScope,
    service_user_id: ctx.serviceUserId,
  };
  for (const [key, value] of Object.entries(optional)) if (value) creds[key] = value;
  if (ctx.serviceRoles) creds.service_roles = [...ctx.serviceRoles];
  return creds;
}

/** The scope of the token behind the credentials, decided as oslo.policy does. */
export function tokenScope(creds: Credentials): 'system' | 'domain' | 'project' {
  if (creds.system_scope) return 'system';
  if (creds.domain_id) return 'domain';
  return 'project';
}
