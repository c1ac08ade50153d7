/**
 * HTTP pieces shared by the simulated Keystone's route files: Keystone's
 * error body, the authenticated caller, policy shortcuts and the JSON shape
 * of identity resources.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Project, Role, User } from './store.js';
import type { TokenClaims, TokenProvider } from './tokens.js';
import { UNAUTHORIZED_MESSAGE } from './tokens.js';

export const FORBIDDEN_MESSAGE = 'You are not authorized to perform the requested action.';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function sendError(res: Response, code: number, message: string): void {
  // Keystone tells clients where to authenticate on every 401.
  if (code === 401) res.set('WWW-Authenticate', `Keystone uri="${baseUrl(res.req)}/v3"`);
  res.status(code).json({ error: { code, title: TITLES[code] ?? 'Error', message } });
}

/** The caller of a call, from its X-Auth-Token. */
export interface Caller {
  claims: TokenClaims;
  user: User;
  roles: Role[];
}

export const callerOf = (res: Response) => res.locals.caller as Caller;
export const isAdmin = (c: Caller) => c.roles.some((r) => r.name === 'admin');

/** Authenticates the caller's X-Auth-Token (not counted as a validation: that is GET /v3/auth/tokens). */
export function authenticatedBy(provider: TokenProvider): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = req.get('X-Auth-Token');
    if (!token) return sendError(res, 401, UNAUTHORIZED_MESSAGE);
    let caller: Caller;
    try {
      const claims = await provider.verify(token);
      const resolved = provider.resolve(claims);
      caller = { claims, user: resolved.actingUser, roles: resolved.roles };
    } catch {
      return sendError(res, 401, UNAUTHORIZED_MESSAGE);
    }
    res.locals.caller = caller;
    next();
  };
}

export const adminOnly: RequestHandler = (_req, res, next) => {
  if (!isAdmin(callerOf(res))) return sendError(res, 403, FORBIDDEN_MESSAGE);
  next();
};

export const baseUrl = (req: Request) => `${req.protocol}://${req.get('host')}`;
export const link = (req: Request, path: string) => ({ self: `${baseUrl(req)}/v3/${path}` });

export const fmtProject = (req: Request, p: Project) => ({
  id: p.id,
  name: p.name,
  domain_id: p.domainId,
  enabled: p.enabled,
  description: p.description,
  parent_id: p.parentId,
  is_domain: false,
  tags: [],
  options: {},
  links: link(req, `projects/${p.id}`),
});

export const fmtUser = (req: Request, u: User) => ({
  id: u.id,
  name: u.name,
  domain_id: u.domainId,
  enabled: u.enabled,
  ...(u.defaultProjectId ? { default_project_id: u.defaultProjectId } : {}),
  password_expires_at: null,
  options: {},
  links: link(req, `users/${u.id}`),
});

export const fmtRole = (req: Request, r: Role) => ({
  id: r.id,
  name: r.name,
  domain_id: null,
  description: '',
  options: {},
  links: link(req, `roles/${r.id}`),
});
