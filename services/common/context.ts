/**
 * The request context: who is calling and on whose behalf. The API builds it
 * from the validated token (or noauth header); RPC carries it to the engine in
 * the oslo.messaging envelope; policy checks read it.
 */
export interface RequestContext {
  requestId: string;
  /** The caller's X-OpenStack-Request-ID when it came from another service. */
  globalRequestId?: string;
  userId: string;
  userName?: string;
  userDomainId?: string;
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  domainId?: string;
  /** 'all' for system-scoped tokens. */
  systemScope?: string;
  roles: string[];
  isAdminProject: boolean;
  /** Set when a valid X-Service-Token accompanied the request. */
  serviceUserId?: string;
  serviceRoles?: string[];
  /** Token expiry (ISO 8601), for deferred work decisions. Never the token itself. */
  expiresAt?: string;
}

/** The subset serialised into RPC messages (oslo.messaging `context`). */
export function contextToDict(ctx: RequestContext): Record<string, unknown> {
  return {
    request_id: ctx.requestId,
    global_request_id: ctx.globalRequestId ?? null,
    user_id: ctx.userId,
    project_id: ctx.projectId ?? null,
    domain_id: ctx.domainId ?? null,
    system_scope: ctx.systemScope ?? null,
    roles: ctx.roles,
    is_admin_project: ctx.isAdminProject,
  };
}

export function contextFromDict(d: Record<string, unknown>): RequestContext {
  return {
    requestId: String(d.request_id ?? ''),
    globalRequestId: (d.global_request_id as string | null) ?? undefined,
    userId: String(d.user_id ?? ''),
    projectId: (d.project_id as string | null) ?? undefined,
    domainId: (d.domain_id as string | null) ?? undefined,
    systemScope: (d.system_scope as string | null) ?? undefined,
    roles: Array.isArray(d.roles) ? d.roles.map(String) : [],
    isAdminProject: d.is_admin_project === true,
  };
}

/** A context for work the services start themselves (sweeps, schedules). */
export function internalContext(requestId: string): RequestContext {
  return { requestId, userId: 'dragon', roles: ['admin'], isAdminProject: false, systemScope: 'all' };
}
